import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { parseMessageHook, type JobMessage } from "../../src/core/job-message.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { FakeEngine } from "../support/fake-engine.js";
import { runJob } from "../../runner/pipeline/run-job.js";
import { AppHarness } from "../support/app-harness.js";
import { testPipelineSettings } from "../support/pipeline-settings.js";
import { pushPayload } from "../support/webhooks.js";

const MATRIX_YML = [
  "hooks:",
  "  - name: test",
  "    image: python:${{ matrix.python }}-slim",
  "    install: pip install -r requirements-$MATRIX_DB.txt",
  "    build: pytest",
  "    env:",
  "      DATABASE_URL: ${{ matrix.db }}://localhost/test",
  "    matrix:",
  '      python: ["3.11", "3.12"]',
  "      db: [mysql, postgres]",
  "  - name: lint",
  "    image: python:3.12",
  "    build: ruff check",
  "",
].join("\n");

/** Runs a job message through the runner's pipeline on a fake engine; its install cache key. */
async function cacheKeyOf(message: JobMessage): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-matrix-"));
  const engine = new FakeEngine();
  const hook = parseMessageHook(message);
  engine.addImage(hook.image);
  const cacheRecords = openEmbeddedStore({ dataDir: dir });
  try {
    const result = await runJob(
      {
        jobId: message.jobId,
        repositoryId: String(message.repository.id),
        scope: message.trust,
        hook,
        ...(message.matrix ? { matrix: message.matrix } : {}),
        sourceDir: dir,
        trackedFiles: [],
      },
      {
        engine,
        settings: testPipelineSettings(dir, {}),
        cacheRecords,
        log: { write: () => {}, flush: async () => {} },
      },
    );
    assert.equal(result.conclusion, "success");
    return result.cacheKey!;
  } finally {
    await cacheRecords.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("a matrix through the app", () => {
  let h: AppHarness;
  before(async () => {
    h = await AppHarness.start({ paceWrites: false });
  });
  after(() => h.stop());
  afterEach(() => {
    assert.deepEqual(h.fake.violations, [], "the app sent requests outside GitHub's API");
  });

  it("a 2×2 matrix makes four check runs and four jobs, each with its values and its own install cache key", async () => {
    const { target, sha } = h.repository({ ".github/kozmic.yml": MATRIX_YML });
    await h.deliver("push", pushPayload(target, { sha }));
    const names = h.fake
      .checkRunsOf(target.fullName, sha)
      .map((r) => r.name)
      .sort();
    assert.deepEqual(names, [
      "lint",
      "test (python 3.11, db mysql)",
      "test (python 3.11, db postgres)",
      "test (python 3.12, db mysql)",
      "test (python 3.12, db postgres)",
    ]);
    const messages = (await h.drain()).filter((m) => m.matrix);
    assert.equal(messages.length, 4);
    const seen = [];
    for (const message of messages) {
      const hook = parseMessageHook(message);
      const { python, db } = message.matrix!;
      assert.equal(hook.image, `python:${python}-slim`);
      assert.equal(hook.env.MATRIX_PYTHON, python);
      assert.equal(hook.env.MATRIX_DB, db);
      assert.equal(hook.env.DATABASE_URL, `${db}://localhost/test`);
      const job = await h.store.getJob(message.jobId);
      assert.equal(job?.hook, `test (python ${python}, db ${db})`);
      const run = h.fake.checkRunsOf(target.fullName, sha).find((r) => r.id === message.checkRunId);
      assert.equal(run?.name, job?.hook);
      seen.push(await cacheKeyOf(message));
    }
    assert.equal(new Set(seen).size, 4, "four combinations, four install cache keys");
  });

  it("a matrix whose combinations share an image still gets a key per combination", async () => {
    const text = MATRIX_YML.replace("python:${{ matrix.python }}-slim", "python:3.12");
    const { target, sha } = h.repository({ ".github/kozmic.yml": text });
    await h.deliver("push", pushPayload(target, { sha }));
    const messages = (await h.drain()).filter((m) => m.matrix);
    assert.equal(messages.length, 4);
    const keys = await Promise.all(messages.map(cacheKeyOf));
    assert.equal(new Set(keys).size, 4);
  });

  it("exclude and include shape the combinations; too many is a configuration error on the matrix's line", async () => {
    const shaped = [
      "hooks:",
      "  - name: test",
      "    image: alpine:3",
      "    build: make",
      "    matrix:",
      "      os: [a, b]",
      "      n: [1, 2]",
      "      exclude:",
      "        - { os: b, n: 2 }",
      "      include:",
      "        - { os: c, n: 9, extra: yes }",
      "",
    ].join("\n");
    const { target, sha } = h.repository({ ".github/kozmic.yml": shaped });
    await h.deliver("push", pushPayload(target, { sha }));
    assert.deepEqual(
      h.fake
        .checkRunsOf(target.fullName, sha)
        .map((r) => r.name)
        .sort(),
      ["test (os a, n 1)", "test (os a, n 2)", "test (os b, n 1)", "test (os c, n 9, extra yes)"],
    );
    await h.drain();

    const huge = shaped.replace(
      "n: [1, 2]",
      `n: [${Array.from({ length: 30 }, (_, i) => i).join(", ")}]`,
    );
    const big = h.repository({ ".github/kozmic.yml": huge });
    await h.deliver("push", pushPayload(big.target, { sha: big.sha }));
    const [config] = h.fake.checkRunsOf(big.target.fullName, big.sha);
    assert.equal(config?.name, "Kozmic configuration");
    assert.equal(config.conclusion, "failure");
    assert.match(
      config.output.summary ?? "",
      /kozmic\.yml:6:7: hook "test": matrix: a configuration may make at most 50 jobs \(hooks and matrix combinations together\); found 60, 60 of them from this hook\n/,
    );
    assert.deepEqual(await h.drain(), []);
  });
});
