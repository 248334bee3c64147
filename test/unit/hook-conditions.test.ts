import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { ConfigError } from "../../src/core/errors.js";
import {
  decideHook,
  matchesRefPatterns,
  type ConditionFacts,
} from "../../src/core/hook-conditions.js";

/** The one hook of a configuration with these extra lines. */
function hook(...lines: string[]) {
  const text = ["hooks:", "  - name: t", "    image: alpine:3", "    build: make", ...lines, ""];
  return parseConfig(text.join("\n")).hooks[0]!;
}

const push = (ref: string, changedFiles?: string[]): ConditionFacts => ({
  event: "push",
  ref,
  changedFiles,
});

describe("decideHook", () => {
  it("a hook without conditions runs on every event, branch and change, but not on tags", () => {
    const h = hook();
    for (const event of ["push", "pull_request", "schedule", "manual"] as const) {
      assert.deepEqual(decideHook(h, { event, ref: "refs/heads/x", changedFiles: [] }), {
        run: true,
      });
    }
    assert.equal(decideHook(h, push("refs/tags/v1")).run, false);
  });

  it("on: lists the events; `on` is read as a key, not YAML 1.1's boolean", () => {
    const h = hook("    on: [pull_request, manual]");
    assert.deepEqual(h.on, ["pull_request", "manual"]);
    assert.deepEqual(decideHook(h, push("refs/heads/main")), {
      run: false,
      report: false,
      reason: "it runs on pull_request, manual, not on push",
    });
    assert.equal(decideHook(h, { event: "manual", ref: "refs/heads/main" }).run, true);
  });

  it("branch patterns: * stays in a segment, ** crosses, ! excludes whatever the order", () => {
    assert.equal(matchesRefPatterns(["release/*"], "release/2"), true);
    assert.equal(matchesRefPatterns(["release/*"], "release/2/hotfix"), false);
    assert.equal(matchesRefPatterns(["release/**"], "release/2/hotfix"), true);
    assert.equal(matchesRefPatterns(["!release/old", "release/*"], "release/old"), false);
    assert.equal(matchesRefPatterns(["!wip/*"], "main"), true);
    assert.equal(matchesRefPatterns(["!wip/*"], "wip/a"), false);
    assert.equal(matchesRefPatterns(["main"], "mainline"), false);
  });

  it("tags: only hooks listing matching tags run on a tag; a tags-only hook skips branches", () => {
    const h = hook("    tags: ['v*', '!v*-rc*']");
    assert.equal(decideHook(h, push("refs/tags/v1.0")).run, true);
    assert.equal(decideHook(h, push("refs/tags/v1.0-rc1")).run, false);
    assert.equal(decideHook(h, push("refs/heads/main")).run, false);
    const both = hook("    tags: ['v*']", "    branches: [main]");
    assert.equal(decideHook(both, push("refs/heads/main")).run, true);
    assert.equal(decideHook(both, push("refs/heads/dev")).run, false);
  });

  it("paths and paths_ignore: skipped with report; unknown or empty change lists run", () => {
    const ignore = hook("    paths_ignore: ['docs/**', '*.md']");
    assert.deepEqual(decideHook(ignore, push("refs/heads/main", ["docs/a/b.md", "README.md"])), {
      run: false,
      report: true,
      reason: "every changed file matches its paths_ignore (docs/**, *.md)",
    });
    assert.equal(decideHook(ignore, push("refs/heads/main", ["docs/a.md", "src/x.py"])).run, true);
    assert.equal(decideHook(ignore, push("refs/heads/main", undefined)).run, true);
    assert.equal(decideHook(ignore, push("refs/heads/main", [])).run, true);
    const only = hook("    paths: ['src/**']", "    paths_ignore: ['src/**/*.md']");
    assert.equal(decideHook(only, push("refs/heads/main", ["src/a/README.md"])).run, false);
    assert.equal(decideHook(only, push("refs/heads/main", ["src/.hidden/x.py"])).run, true);
    // Schedules and manual runs have no change list: paths do not apply.
    assert.equal(decideHook(only, { event: "schedule", ref: "refs/heads/main" }).run, true);
  });
});

describe("condition keys in .github/kozmic.yml", () => {
  it("an unknown event, a bad pattern and an outside path are errors with line and column", () => {
    const text = [
      "hooks:",
      "  - name: t",
      "    image: alpine:3",
      "    build: make",
      "    on: [push, deploy]",
      "    branches: ['main', 'a b']",
      "    paths: ['../secret']",
      "",
    ].join("\n");
    assert.throws(
      () => parseConfig(text),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const lines = error.issues.map((i) => `${i.line}:${i.column} ${i.message}`);
        assert.deepEqual(lines, [
          '5:16 hook "t": on[1]: expected one of "push", "pull_request", "schedule", "manual", found "deploy"',
          '6:24 hook "t": branches[1]: expected a branch or tag name pattern such as main, release/* or !release/old, found "a b"',
          '7:13 hook "t": paths[0]: must not contain ".." segments, found "../secret"',
        ]);
        return true;
      },
    );
  });
});
