import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { assertAccessible } from "../support/browser.js";
import { ARTIFACTS, closeBrowserSession, openBrowserSession } from "./browser-session.js";
import { hooksYml, RunnerHarness } from "./runner-harness.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/junit/${name}`, import.meta.url), "utf8");

describe("JUnit reports end to end: a failing build's report on the check run and the job page", () => {
  let h: RunnerHarness;
  before(async () => {
    h = await RunnerHarness.start();
    h.startRunner({ concurrency: 1 });
  });
  after(async () => {
    assert.deepEqual(h.fake.violations, [], "every GitHub request matched the OpenAPI description");
    await h.stop();
  });

  it("counts, an annotation per failed test and per ::error line; hostile files are warnings", async () => {
    const { git, target } = h.repository();
    const build = [
      "mkdir -p build/test-results/unit",
      // pytest's report, as pytest wrote it, and Surefire's beside it.
      "cp reports/pytest.xml build/test-results/unit/TEST-calc.xml",
      "cp reports/surefire.xml build/test-results/TEST-com.example.CalcTest.xml",
      // Hostile ones: 50 MB, entity expansion, a symlink to the secrets and one out of the source.
      "head -c 52428800 /dev/zero > build/test-results/huge.xml",
      `printf '<!DOCTYPE l [<!ENTITY a "aa"><!ENTITY b "&a;&a;&a;">]><testsuite name="&b;"/>' > build/test-results/laughs.xml`,
      "ln -s /kozmic/run.sh build/test-results/run.xml",
      "ln -s /etc linked",
      "printf '\\033[31mE   assert 3 == 4\\033[0m\\n'",
      "echo '::error file=app.py,line=3,title=Lint::unused import os'",
      "exit 1",
    ].join("\n");
    const sha = git.commit({
      ".github/kozmic.yml": hooksYml({
        build,
        reports: ["build/test-results/**/*.xml", "linked/passwd", "missing/*.xml"],
      }),
      "reports/pytest.xml": fixture("pytest-xunit1.xml"),
      "reports/surefire.xml": fixture("surefire-TEST-com.example.CalcTest.xml"),
      "tests/test_calc.py": "# the suite pytest ran\n",
      "src/test/java/com/example/CalcTest.java": "class CalcTest {}\n",
      "src/main/java/com/example/Calc.java": "class Calc {}\n",
      "app.py": "import os\n",
    });
    await h.push(target, sha);
    const run = await h.completed(target, sha);

    assert.equal(run.conclusion, "failure");
    assert.equal(run.output.title, "Failed with exit code 1 · 10 tests: 5 failed, 2 skipped");
    const summary = run.output.summary ?? "";
    assert.match(summary, /\*\*Tests:\*\* 10 tests: 5 failed, 2 skipped/);
    for (const text of [summary, run.output.text ?? "", run.output.title ?? ""])
      assert.ok(!text.includes("\x1b"), `no terminal escape on github.com:\n${text}`);

    const shown = run.annotations.map((a) => [a.path, a.start_line, a.annotation_level, a.title]);
    assert.deepEqual(shown, [
      ["app.py", 3, "failure", "Lint"],
      ["src/main/java/com/example/Calc.java", 9, "failure", "com.example.CalcTest.dividesByZero"],
      [
        "src/test/java/com/example/CalcTest.java",
        16,
        "failure",
        "com.example.CalcTest.addsNegatives",
      ],
      ["tests/test_calc.py", 13, "failure", "tests.test_calc.test_add_negative"],
      ["tests/test_calc.py", 18, "failure", "tests.test_calc.test_uses_broken_fixture"],
      ["tests/test_calc.py", 35, "failure", "tests.test_calc.TestText.test_escape"],
    ]);
    const pytest = run.annotations.find((a) => a.start_line === 13)!;
    assert.match(pytest.message, /^AssertionError: adding negatives\nassert -2 == -3/);

    const builds = await h.store.findBuildsByCommit(target.id, sha);
    const job = (await h.store.listJobs(builds[0]!.id))[0]!;
    assert.deepEqual(job.tests, { tests: 10, failed: 5, skipped: 2 });
    const log = await h.logOf(job.id);
    assert.match(log, /reports: warning: build\/test-results\/huge\.xml \(50\.0 MB\) is over the/);
    assert.match(
      log,
      /reports: warning: build\/test-results\/laughs\.xml is not a JUnit report: it declares a document type/,
    );
    assert.match(log, /reports: warning: no file matches linked\/passwd\n/);
    assert.match(log, /reports: warning: no file matches missing\/\*\.xml\n/);
    assert.match(log, /reports: 10 tests: 5 failed, 2 skipped \(2 files\)\n/);
    assert.doesNotMatch(log, /==> reports:.*run\.xml|root:x:0/, "a symlink is never followed");

    // The job's page, from this job's record and log, in Chromium.
    const session = await openBrowserSession();
    try {
      const { job: shownJob } = await session.h.addJob({
        repo: "octo/public",
        job: {
          status: "completed",
          conclusion: "failure",
          exitCode: 1,
          durations: job.durations ?? {},
          tests: job.tests!,
          annotations: job.annotations ?? [],
        },
        log: [log],
      });
      await session.page.goto(`${session.h.url}/jobs/${shownJob.id}`);
      assert.equal(
        await session.page.locator("#tests").innerText(),
        "10 tests: 5 failed, 2 skipped",
      );
      await session.page.screenshot({ path: `${ARTIFACTS}/junit-job-page.png`, fullPage: true });
      await assertAccessible(session.page, "job page with test counts");
    } finally {
      await closeBrowserSession(session.h, session.browser);
    }
  });

  it("a job that swaps /kozmic/src for a symlink has nothing read through it", async () => {
    const { git, target } = h.repository();
    const forged =
      '<testsuite><testcase name="forged"><failure message="read outside the source"/></testcase></testsuite>';
    const build = [
      "mkdir -p /tmp/elsewhere/build",
      `printf '%s' '${forged}' > /tmp/elsewhere/forged.xml`,
      `printf '%s' '${forged}' > /tmp/elsewhere/build/forged.xml`,
      "cd / && rm -rf /kozmic/src && ln -s /tmp/elsewhere /kozmic/src",
      "exit 1",
    ].join("\n");
    const sha = git.commit({
      ".github/kozmic.yml": hooksYml({ build, reports: ["**/*.xml", "build/*.xml"] }),
    });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "failure");
    assert.equal(run.output.title, "Failed with exit code 1");
    assert.deepEqual(run.annotations, []);
    const builds = await h.store.findBuildsByCommit(target.id, sha);
    const job = (await h.store.listJobs(builds[0]!.id))[0]!;
    assert.equal(job.tests, undefined);
    const log = await h.logOf(job.id);
    assert.match(log, /reports: warning: no file matches \*\*\/\*\.xml\n/);
    assert.match(log, /reports: warning: no file matches build\/\*\.xml\n/);
  });
});
