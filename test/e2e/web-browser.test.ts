import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { assertAccessible, type TestBrowser } from "../support/browser.js";
import type { WebHarness } from "../integration/web-harness.js";
import { ARTIFACTS, closeBrowserSession, openBrowserSession } from "./browser-session.js";

let h: WebHarness;
let browser: TestBrowser;
let page: Page;
before(async () => ({ h, browser, page } = await openBrowserSession({ pollIntervalMs: 50 })));
after(() => closeBrowserSession(h, browser));

const lines = (from: number, to: number, colour = "") =>
  Array.from({ length: to - from + 1 }, (_, i) => `${colour}step ${from + i}\x1b[0m\n`).join("");

describe("log pages in Chromium", () => {
  it("follows a running job: lines arrive, colours show, the final status appears", async () => {
    const { job } = await h.addJob({
      repo: "octo/public",
      job: { status: "running", phase: "building", conclusion: undefined, finishedAt: undefined },
      log: ["\x1b[1;32m==> build\x1b[0m started\n", lines(2, 10)],
    });
    await page.goto(`${h.url}/jobs/${job.id}`);
    await page.locator("#L10").waitFor();
    assert.match(await page.locator("#status").innerText(), /Running \(building\)/);

    // Appended while the page is open: the live tail brings them in, a line split across chunks too.
    await h.store.appendLog({
      jobId: job.id,
      seq: 2,
      data: lines(11, 30, "\x1b[31m") + "step 31 half",
    });
    await h.store.appendLog({ jobId: job.id, seq: 3, data: " and the rest\n" });
    await page.locator("#L31").waitFor();
    assert.equal(await page.locator("#L31 .lc").innerText(), "step 31 half and the rest");
    assert.equal(await page.locator("#L30 .lc").innerText(), "step 30");

    const red = await page
      .locator("#L11 .lc span")
      .evaluate((el) => [el.className, getComputedStyle(el).color]);
    assert.deepEqual(red, ["fg1", "rgb(255, 123, 114)"]);
    const green = await page
      .locator("#L1 .lc span")
      .evaluate((el) => [el.className, getComputedStyle(el).fontWeight]);
    assert.deepEqual(green, ["fg2 b", "700"]);
    await page.screenshot({ path: `${ARTIFACTS}/web-job-running.png`, fullPage: true });
    await assertAccessible(page, "running job");

    await h.store.appendLog({ jobId: job.id, seq: 4, data: "\x1b[32mall good\x1b[0m\n" });
    await h.store.transitionJob(job.id, ["running"], {
      status: "completed",
      conclusion: "success",
      durations: { pull: 0.2, build: 3, total: 3.4 },
    });
    await page.locator("#status", { hasText: "Succeeded" }).waitFor();
    // textContent: a log no longer live lays its lines out near the window only from the
    // next frame (content-visibility), and until then a line's innerText is empty.
    assert.equal(await page.locator("#L32 .lc").textContent(), "all good");
    assert.equal(await page.locator("#log .line").count(), 32, "no line lost or doubled");
    assert.equal(await page.locator("#follow").count(), 0, "nothing left to follow");
    assert.equal(
      await page.locator("#durations").innerText(),
      "pull 0.2 s, install –, build 3.0 s, total 3.4 s",
    );
    await page.screenshot({ path: `${ARTIFACTS}/web-job-completed.png`, fullPage: true });
  });

  it("scrolls to a line anchor and highlights it", async () => {
    const { job } = await h.addJob({ repo: "octo/public", log: [lines(1, 400)] });
    await page.goto(`${h.url}/jobs/${job.id}#L250`);
    const line = page.locator("#L250");
    await line.waitFor();
    const box = await line.boundingBox();
    const viewport = page.viewportSize()!;
    assert.ok(box && box.y >= 0 && box.y + box.height <= viewport.height, `L250 at ${box?.y}`);
    const background = await line.evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.equal(background, "rgb(59, 46, 0)");
    await page.locator("#L100 a.ln").click();
    assert.match(page.url(), /#L100$/);
    await page.screenshot({ path: `${ARTIFACTS}/web-line-anchor.png` });
  });

  it("signs in with GitHub to read a private repository's build and repository pages", async () => {
    const { job, build } = await h.addJob({
      repo: "octo/secret",
      job: { hook: "deploy" },
      log: ["private output\n"],
    });
    h.oauth.signInAs = "alice";
    await page.goto(`${h.url}/jobs/${job.id}`);
    assert.equal(await page.locator("h1").innerText(), "Not found");
    await assertAccessible(page, "not found");
    await page.locator("main a", { hasText: "sign in with GitHub" }).click();
    await page.locator("#L1").waitFor();
    assert.equal(new URL(page.url()).pathname, `/jobs/${job.id}`);
    assert.equal(await page.locator("#L1 .lc").textContent(), "private output");
    assert.match(await page.locator("header").innerText(), /Signed in as alice/);
    await assertAccessible(page, "signed-in job");

    await page.goto(`${h.url}/builds/${build.id}`);
    assert.equal(await page.getByRole("button", { name: "Re-run deploy" }).count(), 1);
    await assertAccessible(page, "build");
    await page.screenshot({ path: `${ARTIFACTS}/web-build.png`, fullPage: true });
    await page.getByRole("button", { name: "Re-run deploy" }).click();
    await page.locator("#rerun-wait", { hasText: "Kozmic is planning it" }).waitFor();
    assert.deepEqual(h.actions, [`rerun ${build.id} deploy by alice`]);
    await assertAccessible(page, "re-run waiting");
    await page.getByRole("link", { name: "Builds of octo/secret" }).click();
    await page.waitForURL(`${h.url}/repos/octo/secret`);
    assert.match(await page.locator("main").innerText(), /branch main/);
    await assertAccessible(page, "repository");
    await page.screenshot({ path: `${ARTIFACTS}/web-repository.png`, fullPage: true });
  });
});
