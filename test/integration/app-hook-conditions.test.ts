import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { assertHandled, AppHarness, newSha } from "../support/app-harness.js";
import { pullRequestPayload, pushPayload } from "../support/webhooks.js";

const CONDITIONS_YML = [
  "hooks:",
  "  - name: test",
  "    image: alpine:3",
  "    build: make test",
  "    paths_ignore: [docs/**]",
  "  - name: lint",
  "    image: alpine:3",
  "    build: make lint",
  "  - name: deploy",
  "    image: alpine:3",
  "    build: make deploy",
  "    on: [push]",
  "    branches: [main, release/*, '!release/old']",
  "  - name: release",
  "    image: alpine:3",
  "    build: make release",
  "    tags: [v*]",
  "  - name: api",
  "    image: alpine:3",
  "    build: make api",
  "    on: [pull_request]",
  "    paths: [src/api/**]",
  "",
].join("\n");

const BASE_FILES = { ".github/kozmic.yml": CONDITIONS_YML, "src/app.py": "v1", "docs/a.md": "a" };

describe("hook conditions through the app: on, branches, tags, paths", () => {
  let h: AppHarness;
  before(async () => {
    h = await AppHarness.start({ paceWrites: false });
  });
  after(() => h.stop());
  afterEach(() => {
    assert.deepEqual(h.fake.violations, [], "the app sent requests outside GitHub's API");
  });

  /** Names of the check runs on `sha`, each with its conclusion (or status). */
  function runs(fullName: string, sha: string): string[] {
    return h.fake
      .checkRunsOf(fullName, sha)
      .map((r) => `${r.name}:${r.conclusion ?? r.status}`)
      .sort();
  }

  it("a docs-only push to main skips `test` (paths_ignore) with a skipped check run saying why", async () => {
    const { target, sha: first } = h.repository(BASE_FILES);
    const sha = newSha();
    h.fake.addCommit(target.fullName, sha, { ...BASE_FILES, "docs/a.md": "b" }, "main");
    assertHandled(await h.deliver("push", pushPayload(target, { sha, before: first })));

    assert.deepEqual(runs(target.fullName, sha), ["deploy:queued", "lint:queued", "test:skipped"]);
    const skipped = h.fake.checkRunsOf(target.fullName, sha).find((r) => r.name === "test")!;
    assert.equal(skipped.output.title, "Skipped");
    assert.match(
      skipped.output.summary!,
      /every changed file matches its paths_ignore \(docs\/\*\*\)/,
    );
    const messages = await h.drain();
    assert.deepEqual(messages.map((m) => (m.hook as { name: string }).name).sort(), [
      "deploy",
      "lint",
    ]);
  });

  it("a push changing code runs `test`; a new branch (no earlier commit to compare) runs every push hook", async () => {
    const { target, sha: first } = h.repository(BASE_FILES);
    const code = newSha();
    h.fake.addCommit(target.fullName, code, { ...BASE_FILES, "src/app.py": "v2" }, "main");
    await h.deliver("push", pushPayload(target, { sha: code, before: first }));
    assert.deepEqual(runs(target.fullName, code), ["deploy:queued", "lint:queued", "test:queued"]);

    const docs = newSha();
    h.fake.addCommit(target.fullName, docs, { ...BASE_FILES, "docs/a.md": "c" }, "topic");
    await h.deliver("push", pushPayload(target, { sha: docs, branch: "topic" }));
    assert.deepEqual(runs(target.fullName, docs), ["lint:queued", "test:queued"]);
    await h.drain();
  });

  it("branches: deploy runs on main and release/2, not on release/old nor a feature branch", async () => {
    const { target, sha: first } = h.repository(BASE_FILES);
    const seen: Record<string, string[]> = {};
    for (const branch of ["release/2", "release/old", "feature"]) {
      const sha = newSha();
      h.fake.addCommit(target.fullName, sha, { ...BASE_FILES, "src/app.py": branch }, branch);
      await h.deliver("push", pushPayload(target, { sha, branch, before: first }));
      seen[branch] = runs(target.fullName, sha);
    }
    assert.deepEqual(seen, {
      "release/2": ["deploy:queued", "lint:queued", "test:queued"],
      "release/old": ["lint:queued", "test:queued"],
      feature: ["lint:queued", "test:queued"],
    });
    await h.drain();
  });

  it("a tag push runs only the hooks whose tags match; other tags build nothing", async () => {
    const { target, sha } = h.repository(BASE_FILES);
    await h.deliver("push", pushPayload(target, { sha, tag: "nightly" }));
    assert.deepEqual(runs(target.fullName, sha), []);
    assert.deepEqual(await h.store.findBuildsByCommit(target.id, sha), [], "no empty build");
    await h.deliver("push", pushPayload(target, { sha, tag: "v1.2.0" }));
    assert.deepEqual(runs(target.fullName, sha), ["release:queued"]);
    const messages = await h.drain();
    assert.deepEqual(
      messages.map((m) => [(m.hook as { name: string }).name, m.ref]),
      [["release", "refs/tags/v1.2.0"]],
    );
  });

  it("a commit built on a feature branch and then pushed to main runs deploy then, and nothing twice", async () => {
    const { target, sha: first } = h.repository(BASE_FILES);
    const sha = newSha();
    h.fake.addCommit(target.fullName, sha, { ...BASE_FILES, "src/app.py": "v3" }, "feature");
    await h.deliver("push", pushPayload(target, { sha, branch: "feature", before: first }));
    assert.deepEqual(runs(target.fullName, sha), ["lint:queued", "test:queued"]);
    const again = await h.deliver(
      "push",
      pushPayload(target, { sha, branch: "main", before: first }),
    );
    // The same delivery twice (GitHub's redelivery) plans nothing more.
    await h.deliver("push", pushPayload(target, { sha, branch: "main", before: first }), {
      id: again.id,
    });
    assert.deepEqual(runs(target.fullName, sha), ["deploy:queued", "lint:queued", "test:queued"]);
    assert.equal((await h.drain()).length, 3);
  });

  it("a pull request lists its files page by page: api runs when src/api changed among 250 files, once", async () => {
    const { target, sha: base } = h.repository(BASE_FILES);
    const many: Record<string, string> = { ...BASE_FILES };
    for (let i = 0; i < 249; i++) many[`docs/page-${String(i).padStart(3, "0")}.md`] = "x";
    many["src/api/z.py"] = "new";
    const sha = newSha();
    h.fake.addCommit(target.fullName, sha, many, "api-work");
    h.fake.addPullRequest({
      repository: target.fullName,
      number: 41,
      title: "API",
      headSha: sha,
      headRef: "api-work",
      baseRef: "main",
    });
    // The push of the branch first: api runs on pull requests only.
    await h.deliver("push", pushPayload(target, { sha, branch: "api-work", before: base }));
    assert.deepEqual(runs(target.fullName, sha), ["lint:queued", "test:queued"]);
    await h.deliver(
      "pull_request",
      pullRequestPayload(target, { action: "opened", number: 41, sha, headRef: "api-work" }),
    );
    assert.deepEqual(runs(target.fullName, sha), ["api:queued", "lint:queued", "test:queued"]);
    assert.deepEqual(
      h.fake.filesListed.filter((l) => l.pull === 41).map((l) => l.page),
      [1, 2, 3],
    );
    assert.equal((await h.drain()).length, 3);
  });

  it("a pull request that does not touch src/api gets a skipped api check run", async () => {
    const { target } = h.repository(BASE_FILES);
    const sha = newSha();
    h.fake.addCommit(target.fullName, sha, { ...BASE_FILES, "src/app.py": "v9" }, "small");
    h.fake.addPullRequest({
      repository: target.fullName,
      number: 42,
      title: "Small",
      headSha: sha,
      headRef: "small",
      baseRef: "main",
    });
    await h.deliver(
      "pull_request",
      pullRequestPayload(target, { action: "opened", number: 42, sha, headRef: "small" }),
    );
    assert.deepEqual(runs(target.fullName, sha), ["api:skipped", "lint:queued", "test:queued"]);
    const api = h.fake.checkRunsOf(target.fullName, sha).find((r) => r.name === "api")!;
    assert.match(api.output.summary!, /no changed file matches its paths \(src\/api\/\*\*\)/);
    await h.drain();
  });
});
