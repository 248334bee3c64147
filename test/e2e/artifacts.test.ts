import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { text } from "node:stream/consumers";
import { EmbeddedArtifacts } from "../../src/store/embedded-artifacts.js";
import { assertAccessible } from "../support/browser.js";
import { ARTIFACTS, closeBrowserSession, openBrowserSession } from "./browser-session.js";
import { hooksYml, RunnerHarness } from "./runner-harness.js";

const WHEEL = "PK\u0003\u0004 a wheel's bytes <script>alert(1)</script>\n";

describe("artifacts end to end: kept from a failed build, listed on the job page, downloaded by who may read the log", () => {
  let h: RunnerHarness;
  let store: EmbeddedArtifacts;
  before(async () => {
    h = await RunnerHarness.start();
    store = new EmbeddedArtifacts(join(h.dir, "artifacts-data"));
    // 1 MB per job, so that a 2 MB file is the one over the limit.
    h.startRunner({ concurrency: 1 }, { artifacts: { store, maxBytes: 1024 ** 2 } });
  });
  after(async () => {
    assert.deepEqual(h.fake.violations, [], "every GitHub request matched the OpenAPI description");
    await h.stop();
  });

  it("a build's files are kept through real Docker; oversized and symlinked ones are not; the page serves them", async () => {
    const { git, target } = h.repository();
    const build = [
      "mkdir -p dist reports",
      `printf '%s' "$WHEEL" > dist/x-1.0-py3-none-any.whl`,
      "printf '<coverage line-rate=\"0.9\"/>' > /kozmic/src/coverage.xml",
      "head -c 2097152 /dev/zero > dist/huge.whl",
      // Symlinks out of the workspace: never followed, whichever way they point.
      "ln -s /etc/passwd dist/passwd.whl",
      "ln -s /etc linked",
      "exit 3",
    ].join("\n");
    const sha = git.commit({
      ".github/kozmic.yml":
        hooksYml({
          build,
          artifacts: "[dist/*.whl, /kozmic/src/coverage.xml, linked/passwd, missing/*.zip]",
        }) + `    env: {WHEEL: ${JSON.stringify(WHEEL)}}\n`,
    });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "failure", "kept also when the build failed (the default)");

    const builds = await h.store.findBuildsByCommit(target.id, sha);
    const job = (await h.store.listJobs(builds[0]!.id))[0]!;
    const log = await h.logOf(job.id);
    assert.match(log, /artifacts: kept dist\/x-1\.0-py3-none-any\.whl \(0\.0 MB\)\n/);
    assert.match(log, /artifacts: kept coverage\.xml/);
    assert.match(
      log,
      /artifacts: warning: dist\/huge\.whl \(2\.0 MB\) is over the 1\.0 MB left of the job's 1\.0 MB \(KOZMIC_ARTIFACT_MAX_SIZE\); skipped\n/,
    );
    assert.match(log, /artifacts: warning: no file matches linked\/passwd\n/);
    assert.match(log, /artifacts: warning: no file matches missing\/\*\.zip\n/);
    assert.match(log, /artifacts: 2 files, 0\.0 MB kept\n/);
    const kept = await store.list(job.id);
    assert.deepEqual(kept, [
      { name: "coverage.xml", size: 27 },
      { name: "dist/x-1.0-py3-none-any.whl", size: Buffer.byteLength(WHEEL) },
    ]);
    assert.equal(await text((await store.get(job.id, "dist/x-1.0-py3-none-any.whl"))!.body), WHEEL);

    // The job page on a private repository (octo/secret), over a copy of what the runner kept.
    const session = await openBrowserSession({ artifacts: store });
    try {
      const { h: web, page } = session;
      const { job: shown } = await web.addJob({
        repo: "octo/secret",
        job: { id: job.id, status: "completed", conclusion: "failure", exitCode: 3 },
        log: [log],
      });
      const href = `/jobs/${shown.id}/artifacts/dist/x-1.0-py3-none-any.whl`;

      // Anonymously, and as a user who cannot read it: the 404 of an unknown job.
      for (const cookie of [undefined, await web.signIn("bob")]) {
        const headers: Record<string, string> = cookie ? { cookie } : {};
        const download = await fetch(`${web.url}${href}`, { headers });
        assert.equal(download.status, 404);
        assert.doesNotMatch(await download.text(), /wheel/);
        assert.equal((await fetch(`${web.url}/jobs/${shown.id}`, { headers })).status, 404);
      }

      // Signed in as the owner: the list, and a download that is an attachment.
      web.oauth.signInAs = "alice";
      await page.goto(`${web.url}/login?return_to=/jobs/${shown.id}`);
      await page.locator("#artifacts").waitFor();
      assert.deepEqual(await page.locator("#artifacts li").allInnerTexts(), [
        "coverage.xml 27 bytes",
        `dist/x-1.0-py3-none-any.whl ${Buffer.byteLength(WHEEL)} bytes`,
      ]);
      await assertAccessible(page, "job page with artifacts");
      await page.screenshot({ path: `${ARTIFACTS}/artifacts-job-page.png`, fullPage: true });
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.locator("#artifacts a", { hasText: "x-1.0-py3-none-any.whl" }).click(),
      ]);
      assert.equal(download.suggestedFilename(), "x-1.0-py3-none-any.whl");
      assert.equal(readFileSync((await download.path())!, "utf8"), WHEEL);

      const cookie = await web.signIn("alice");
      const response = await fetch(`${web.url}${href}`, { headers: { cookie } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/octet-stream");
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      assert.match(
        response.headers.get("content-disposition") ?? "",
        /^attachment; filename="x-1\.0-py3-none-any\.whl"/,
      );
      assert.equal(await response.text(), WHEEL);
      // Names that are no artifact of this job find nothing.
      for (const other of ["dist/huge.whl", "dist/passwd.whl", "dist/..%2f..%2fetc/passwd"]) {
        const missing = await fetch(`${web.url}/jobs/${shown.id}/artifacts/${other}`, {
          headers: { cookie },
        });
        assert.equal(missing.status, 404, other);
      }
    } finally {
      await closeBrowserSession(session.h, session.browser);
    }
  });
});
