import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hookSchema, type HookInput } from "../../src/core/config/schema.js";
import { FakeEngine } from "../support/fake-engine.js";
import { runJob } from "../../runner/pipeline/run-job.js";
import { mergeAnnotations } from "../../runner/logs/workflow-commands.js";
import { collectReports } from "../../runner/reports/collect-reports.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { testPipelineSettings } from "../support/pipeline-settings.js";
import type { ArtifactSink } from "../../runner/reports/collect-artifacts.js";
import { text } from "node:stream/consumers";

const pytestReport = readFileSync(
  new URL("../fixtures/junit/pytest-xunit1.xml", import.meta.url),
  "utf8",
);

/** Runs a hook on the fake engine, whose step's /kozmic/src is the source `fill` wrote. */
async function runWithSource(
  hook: Partial<HookInput>,
  fill: (src: string) => void,
  artifacts?: ArtifactSink,
) {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-reports-"));
  const src = join(dir, "src");
  mkdirSync(join(src, "tests"), { recursive: true });
  writeFileSync(join(src, "tests/test_calc.py"), "def test_add(): pass\n");
  fill(src);
  const engine = new FakeEngine();
  engine.addImage("base");
  let log = "";
  const cacheRecords = openEmbeddedStore({ dataDir: join(dir, "data") });
  try {
    const result = await runJob(
      {
        jobId: "j",
        repositoryId: "r",
        scope: "trusted",
        hook: hookSchema.parse({ name: "t", image: "base", build: "b", ...hook }),
        sourceDir: src,
        trackedFiles: [],
      },
      {
        engine,
        settings: testPipelineSettings(join(dir, "data"), { defaultPids: 10, cacheKeep: 2 }),
        cacheRecords,
        log: { write: (t) => void (log += t), flush: async () => {} },
        ...(artifacts ? { artifacts } : {}),
      },
    );
    return { result, log };
  } finally {
    await cacheRecords.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a failed build's reports are read: counts, annotations; bad files are warnings that lose nothing else", async () => {
  const { result, log } = await runWithSource(
    {
      env: { FAKE_EXIT: "1" },
      reports: ["build/test-results/**/*.xml", "junit.xml", "missing/*.xml"],
    },
    (src) => {
      mkdirSync(join(src, "build/test-results/unit"), { recursive: true });
      writeFileSync(join(src, "build/test-results/unit/TEST-calc.xml"), pytestReport);
      writeFileSync(join(src, "build/test-results/broken.xml"), "<testsuite><testcase name='a'>");
      writeFileSync(
        join(src, "build/test-results/laughs.xml"),
        '<!DOCTYPE l [<!ENTITY a "aaaa">]><testsuite>&a;</testsuite>',
      );
      // A symlink is never followed, even to a valid report.
      symlinkSync("unit/TEST-calc.xml", join(src, "build/test-results/linked.xml"));
      symlinkSync("/etc/passwd", join(src, "build/test-results/passwd.xml"));
      writeFileSync(
        join(src, "junit.xml"),
        '<testsuite><testcase name="ok"/><testcase name="skip"><skipped/></testcase></testsuite>',
      );
    },
  );
  assert.equal(result.conclusion, "failure");
  assert.deepEqual(result.tests?.counts, { tests: 8, failed: 3, skipped: 2 });
  assert.deepEqual(
    result.tests?.annotations.map((a) => [a.path, a.startLine, a.title]),
    [
      ["tests/test_calc.py", 13, "tests.test_calc.test_add_negative"],
      ["tests/test_calc.py", 18, "tests.test_calc.test_uses_broken_fixture"],
      ["tests/test_calc.py", 35, "tests.test_calc.TestText.test_escape"],
    ],
  );
  assert.match(
    log,
    /==> reports: warning: build\/test-results\/broken\.xml is not a JUnit report: it ends inside <testcase> \(cut short\?\); left out\n/,
  );
  assert.match(
    log,
    /==> reports: warning: build\/test-results\/laughs\.xml is not a JUnit report: it declares a document type/,
  );
  assert.match(log, /==> reports: warning: no file matches missing\/\*\.xml\n/);
  assert.match(
    log,
    /==> reports: 8 tests: 3 failed, 2 skipped \(2 files\)\n==> build exit code 1\n/,
  );
  assert.doesNotMatch(log, /linked|passwd/);
});

test("a directory on the way that is a symlink is not followed", async () => {
  const { result, log } = await runWithSource({ reports: ["out/reports/*.xml"] }, (src) => {
    mkdirSync(join(src, "elsewhere/reports"), { recursive: true });
    writeFileSync(join(src, "elsewhere/reports/TEST-calc.xml"), pytestReport);
    symlinkSync("elsewhere", join(src, "out"));
  });
  assert.equal(result.conclusion, "success");
  assert.equal(result.tests, undefined);
  assert.match(log, /==> reports: warning: no file matches out\/reports\/\*\.xml\n/);
});

test("a report over the size limit is left out with a warning; the next one is still read", async () => {
  const { result, log } = await runWithSource({ reports: ["*.xml"] }, (src) => {
    writeFileSync(join(src, "a-huge.xml"), `<testsuite>${" ".repeat(21 * 1024 ** 2)}</testsuite>`);
    writeFileSync(join(src, "b.xml"), pytestReport);
  });
  assert.deepEqual(result.tests?.counts, { tests: 6, failed: 3, skipped: 1 });
  assert.match(
    log,
    /==> reports: warning: a-huge\.xml \(21\.0 MB\) is over the 20\.0 MB of reports left to read; left out\n/,
  );
});

test("a build that timed out still has its reports read", async () => {
  const { result, log } = await runWithSource(
    { env: { FAKE_SLEEP_MS: "600000" }, timeout: "1s", reports: ["junit.xml"] },
    (src) => writeFileSync(join(src, "junit.xml"), pytestReport),
  );
  assert.equal(result.conclusion, "timed_out");
  assert.deepEqual(result.tests?.counts, { tests: 6, failed: 3, skipped: 1 });
  assert.match(log, /reports: 6 tests: 3 failed, 1 skipped \(1 file\)\n==> timed out/);
});

test("::error lines and failed tests share the 100 annotations: half each when both have more", () => {
  const of = (kind: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      level: "failure" as const,
      path: "a.py",
      startLine: i + 1,
      endLine: i + 1,
      message: `${kind} ${i}`,
    }));
  const count = (merged: { message: string }[], kind: string) =>
    merged.filter((a) => a.message.startsWith(kind)).length;
  const both = mergeAnnotations(of("command", 100), of("test", 200));
  assert.deepEqual([count(both, "command"), count(both, "test")], [50, 50]);
  const fewTests = mergeAnnotations(of("command", 100), of("test", 10));
  assert.deepEqual([count(fewTests, "command"), count(fewTests, "test")], [90, 10]);
  const fewCommands = mergeAnnotations(of("command", 3), of("test", 200));
  assert.deepEqual([count(fewCommands, "command"), count(fewCommands, "test")], [3, 97]);
  assert.equal(fewCommands[0]!.message, "command 0", "the commands' come first");
});

test("a pattern over a huge tree stops after the scan limit, keeping what it read", async () => {
  const src = mkdtempSync(join(tmpdir(), "kozmic-scan-"));
  try {
    writeFileSync(join(src, "a-report.xml"), pytestReport);
    for (let i = 0; i < 20; i++) writeFileSync(join(src, `b-${i}.bin`), Buffer.alloc(100_000));
    writeFileSync(join(src, "z-report.xml"), pytestReport);
    const engine = new FakeEngine();
    engine.addImage("base");
    const id = await engine.createStep({
      image: "base",
      env: {},
      labels: {},
      memoryBytes: 1,
      nanoCpus: 1,
      pidsLimit: 1,
      network: "none",
      files: { sourceDir: src, uid: 0, gid: 0, extra: [] },
    });
    const lines: string[] = [];
    const tests = await collectReports(engine, id, ["**/*.xml"], {
      say: (line) => lines.push(line),
      isRepositoryFile: () => false,
      limits: { maxFiles: 100, maxBytes: 20 * 1024 ** 2, maxScannedBytes: 1024 ** 2 },
    });
    assert.deepEqual(tests?.counts, { tests: 6, failed: 3, skipped: 1 }, "a-report.xml only");
    assert.deepEqual(lines, [
      "reports: warning: stopped looking for reports after 1.0 MB of other files; name the reports' directory in the pattern",
      "reports: 6 tests: 3 failed, 1 skipped (1 file)",
    ]);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
});

test("artifacts: kept from a failed build by default, only from a passing one with when: success", async () => {
  const kept = (into: Map<string, string>): ArtifactSink => ({
    maxBytes: 1024,
    put: async (name, body) => void into.set(name, await text(body)),
  });
  const fill = (src: string) => {
    mkdirSync(join(src, "dist"));
    writeFileSync(join(src, "dist/x.whl"), "wheel");
  };
  const always = new Map<string, string>();
  const failed = await runWithSource(
    { env: { FAKE_EXIT: "1" }, artifacts: ["dist/*.whl"] },
    fill,
    kept(always),
  );
  assert.equal(failed.result.conclusion, "failure");
  assert.deepEqual([...always], [["dist/x.whl", "wheel"]]);

  const onSuccess = new Map<string, string>();
  const skipped = await runWithSource(
    { env: { FAKE_EXIT: "1" }, artifacts: { paths: ["dist/*.whl"], when: "success" } },
    fill,
    kept(onSuccess),
  );
  assert.equal(onSuccess.size, 0);
  assert.doesNotMatch(skipped.log, /artifacts:/);
  await runWithSource(
    { artifacts: { paths: ["dist/*.whl"], when: "success" } },
    fill,
    kept(onSuccess),
  );
  assert.deepEqual([...onSuccess], [["dist/x.whl", "wheel"]]);
});
