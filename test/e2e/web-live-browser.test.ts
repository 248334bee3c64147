import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { assertAccessible, type TestBrowser } from "../support/browser.js";
import type { WebHarness } from "../integration/web-harness.js";
import { ARTIFACTS, closeBrowserSession, openBrowserSession } from "./browser-session.js";

// A running job's page as its reader uses it: following that pauses and resumes, Cancel and
// Re-run that say what they did, durations that tick; and the line tools and dark theme.

let h: WebHarness;
let browser: TestBrowser;
let page: Page;
before(async () => {
  ({ h, browser, page } = await openBrowserSession({ pollIntervalMs: 50 }));
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], {
    origin: h.url,
  });
});
after(() => closeBrowserSession(h, browser));

const lines = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `step ${from + i}\n`).join("");

const RUNNING = {
  status: "running",
  phase: "building",
  conclusion: undefined,
  finishedAt: undefined,
} as const;

/** Whether any of the element is inside the window. */
async function inView(locator: Locator): Promise<boolean> {
  const box = await locator.boundingBox();
  return box !== null && box.y + box.height > 0 && box.y < page.viewportSize()!.height;
}

/** Marks the page's window; a navigation or reload loses the mark. */
async function markWindow(): Promise<void> {
  await page.evaluate(() => ((window as unknown as { kozmicMark: boolean }).kozmicMark = true));
}
async function windowMarked(): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { kozmicMark?: boolean }).kozmicMark === true);
}

describe("a running job's page in Chromium", () => {
  it("pauses following when the reader scrolls up, and follows again on request", async () => {
    const { job } = await h.addJob({ repo: "octo/public", job: RUNNING, log: [lines(1, 200)] });
    await page.goto(`${h.url}/jobs/${job.id}`);
    await page.locator("#L200").waitFor();
    assert.ok(await inView(page.locator("#L200")), "a followed page opens at its newest line");
    assert.equal(await page.locator("#follow-again").isVisible(), false);

    // Durations tick while the job runs.
    const elapsed = page.locator("#elapsed");
    const first = await elapsed.innerText();
    await page.waitForFunction(
      (was) => document.getElementById("elapsed")!.textContent !== was,
      first,
    );

    await page.mouse.wheel(0, -3000);
    await page.locator("#follow-again").waitFor();
    assert.equal(await page.locator("#follow").isChecked(), false);
    const readerAt = await page.evaluate(() => window.scrollY);

    await h.store.appendLog({ jobId: job.id, seq: 1, data: lines(201, 260) });
    await page.locator("#L260").waitFor({ state: "attached" });
    await page.locator("#follow-again", { hasText: "Follow again (60 new lines)" }).waitFor();
    assert.equal(
      await inView(page.locator("#L260")),
      false,
      "new lines do not pull the reader down",
    );
    assert.equal(await page.evaluate(() => window.scrollY), readerAt);
    await page.screenshot({ path: `${ARTIFACTS}/web-live-paused.png` });
    await assertAccessible(page, "paused live job");

    await page.locator("#follow-again").click();
    assert.ok(await inView(page.locator("#L260")), "following again jumps to the end");
    assert.equal(await page.locator("#follow").isChecked(), true);
    assert.equal(await page.locator("#follow-again").isVisible(), false);
    await h.store.appendLog({ jobId: job.id, seq: 2, data: lines(261, 300) });
    // And keeps following (it scrolls once the browser renders the new lines).
    await page.waitForFunction(() => {
      const box = document.getElementById("L300")?.getBoundingClientRect();
      return box !== undefined && box.bottom > 0 && box.top < window.innerHeight;
    });

    // Selecting text in the log pauses too: the selection stays where it is.
    await page.locator("#L290 .lc").selectText();
    await page.locator("#follow-again").waitFor();
    await h.store.appendLog({ jobId: job.id, seq: 3, data: lines(301, 340) });
    await page.locator("#L340").waitFor({ state: "attached" });
    assert.ok(await inView(page.locator("#L290")));
    assert.equal(await inView(page.locator("#L340")), false);
    await page.screenshot({ path: `${ARTIFACTS}/web-live-selection-paused.png` });
  });

  it("Cancel says Cancelling… at once, then shows the end from the live stream, without a reload", async () => {
    const { job } = await h.addJob({ repo: "octo/public", job: RUNNING, log: [lines(1, 5)] });
    h.oauth.signInAs = "alice";
    await page.goto(`${h.url}/login?return_to=/jobs/${job.id}`);
    await page.locator("#L5").waitFor();
    await markWindow();
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.locator("#status", { hasText: "Cancelling…" }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Cancel" }).count(), 0);
    await page.screenshot({ path: `${ARTIFACTS}/web-live-cancelling.png` });
    await assertAccessible(page, "cancelling job");
    // The status never reads "Running … Cancelled by alice" beside a Cancel button.
    assert.doesNotMatch(await page.locator("#status").innerText(), /Running|Cancelled by/);

    // The runner stops the job (the harness's cancel flagged it as the planner would).
    const flagged = await h.store.getJob(job.id);
    assert.equal(flagged?.cancelRequested, true);
    await h.store.appendLog({
      jobId: job.id,
      seq: 1,
      data: "==> cancelled: Cancelled by alice.\n",
    });
    await h.store.transitionJob(job.id, ["running"], {
      status: "completed",
      conclusion: "cancelled",
      message: "Cancelled by alice.",
      finishedAt: Date.now(),
    });
    await page.locator("#status", { hasText: "Cancelled" }).waitFor();
    assert.equal(await page.locator("#status").innerText(), "Cancelled Cancelled by alice.");
    assert.equal(await page.getByRole("button", { name: "Re-run" }).count(), 1);
    // textContent: a log no longer live lays its lines out near the window only from the
    // next frame (content-visibility), and until then a line's innerText is empty.
    assert.equal(await page.locator("#L6 .lc").textContent(), "==> cancelled: Cancelled by alice.");
    assert.equal(await page.locator("#running-for").count(), 0);
    assert.ok(await windowMarked(), "the page was never reloaded");
    await page.screenshot({ path: `${ARTIFACTS}/web-live-cancelled.png` });
  });

  it("Re-run goes to the new job's live page once the planner has made it", async () => {
    const { job, build } = await h.addJob({ repo: "octo/public", log: [lines(1, 3)] });
    h.oauth.signInAs = "alice";
    await page.goto(`${h.url}/login?return_to=/jobs/${job.id}`);
    await page.locator("#L3").waitFor();
    await page.getByRole("button", { name: "Re-run" }).click();
    await page.locator("#rerun-wait").waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/web-rerun-waiting.png` });
    const [rerun] = h.reruns.filter((r) => r.from.id === build.id);
    assert.equal(rerun?.hook, "test");

    // The planner makes the build; the waiting page moves on to its job by itself.
    const { job: next } = await h.addJob({
      repo: "octo/public",
      build: { id: rerun!.buildId, event: "rerun", trigger: "rerun by alice" },
      job: RUNNING,
      log: ["==> hook test\n"],
    });
    await page.waitForURL(`${h.url}/jobs/${next.id}`);
    await page.locator("#L1").waitFor();
    assert.match(await page.locator("#status").innerText(), /Running \(building\)/);
    assert.match(await page.locator("main").innerText(), /rerun by alice/);
    assert.equal(await page.locator("#follow").isChecked(), true);
    await h.store.appendLog({ jobId: next.id, seq: 1, data: "live line\n" });
    await page.locator("#L2", { hasText: "live line" }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/web-rerun-live.png`, fullPage: true });
  });
});

describe("line tools and themes in Chromium", () => {
  it("highlights #L150-L160, extends the range with shift-click, copies its link", async () => {
    const { job } = await h.addJob({ repo: "octo/public", log: [lines(1, 400)] });
    await page.goto(`${h.url}/jobs/${job.id}#L150-L160`);
    await page.locator("#L150.in-range").waitFor();
    assert.deepEqual(
      await page.locator(".line.in-range").evaluateAll((ls) => ls.map((l) => l.id)),
      Array.from({ length: 11 }, (_, i) => `L${150 + i}`),
    );
    assert.ok(await inView(page.locator("#L150")));
    const background = await page
      .locator("#L155")
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.equal(background, "rgb(59, 46, 0)");
    await page.screenshot({ path: `${ARTIFACTS}/web-line-range.png` });

    await page.locator("#L170 a.ln").click({ modifiers: ["Shift"] });
    assert.match(page.url(), /#L150-L170$/);
    assert.equal(await page.locator(".line.in-range").count(), 21);
    const copy = page.locator("#copy-line-link");
    assert.equal(await copy.innerText(), "Copy link to lines 150–170");
    await copy.click();
    await page.locator("#copy-line-status", { hasText: "Link copied." }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, `${h.url}/jobs/${job.id}#L150-L170`);

    // A plain click on a number is one line again.
    await page.locator("#L12 a.ln").click();
    assert.deepEqual(
      await page.locator(".line.in-range").evaluateAll((ls) => ls.map((l) => l.id)),
      ["L12"],
    );
    assert.equal(await copy.innerText(), "Copy link to line 12");
  });

  it("remembers timestamps, as clock time or as time since the job started", async () => {
    const started = Date.parse("2026-11-30T11:05:00.000Z");
    const { job } = await h.addJob({ repo: "octo/public", job: { startedAt: started } });
    await h.store.appendLog({ jobId: job.id, seq: 0, at: started + 2000, data: "first\n" });
    await h.store.appendLog({ jobId: job.id, seq: 1, at: started + 65_000, data: "later\n" });
    await page.goto(`${h.url}/jobs/${job.id}`);
    const stamp = page.locator("#L2 .ts");
    assert.equal(await stamp.isVisible(), false);
    await page.getByLabel("Timestamps", { exact: true }).check();
    assert.equal(await stamp.textContent(), "11:06:05");
    await page.getByLabel("as").selectOption("elapsed");
    assert.equal(await stamp.textContent(), "+1:05");
    assert.equal(await page.locator("#L1 .ts").textContent(), "+0:02");

    await page.reload();
    assert.equal(await page.getByLabel("Timestamps", { exact: true }).isChecked(), true);
    assert.equal(await page.locator("#L2 .ts").textContent(), "+1:05");
    await page.screenshot({ path: `${ARTIFACTS}/web-timestamps-elapsed.png` });
    await page.getByLabel("Timestamps", { exact: true }).uncheck();
    await page.reload();
    assert.equal(await page.locator("#L2 .ts").isVisible(), false);
  });

  it("follows the system's dark mode, readable and accessible", async () => {
    const { job } = await h.addJob({
      repo: "octo/public",
      job: { conclusion: "failure", exitCode: 1 },
      log: [
        "\x1b[1;32m==> build\x1b[0m\n\x1b[31mFAILED\x1b[0m test_login\n\x1b[33mwarning\x1b[0m\n",
      ],
    });
    await page.emulateMedia({ colorScheme: "dark" });
    try {
      await page.goto(`${h.url}/jobs/${job.id}`);
      await page.locator("#L3").waitFor();
      const body = await page
        .locator("body")
        .evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]);
      assert.deepEqual(body, ["rgb(13, 17, 23)", "rgb(230, 237, 243)"]);
      assert.equal(
        await page.locator("#L2 .lc span").evaluate((el) => getComputedStyle(el).color),
        "rgb(255, 123, 114)",
      );
      await assertAccessible(page, "dark job");
      await page.screenshot({ path: `${ARTIFACTS}/web-dark-job.png`, fullPage: true });
      await page.locator(".breadcrumbs a", { hasText: "build" }).click();
      await assertAccessible(page, "dark build");
      await page.screenshot({ path: `${ARTIFACTS}/web-dark-build.png`, fullPage: true });
    } finally {
      await page.emulateMedia({ colorScheme: "light" });
    }
  });
});
