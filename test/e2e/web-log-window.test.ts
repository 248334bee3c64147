import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import type { LogSectionRecord } from "../../src/store/port.js";
import { assertAccessible, type TestBrowser } from "../support/browser.js";
import type { WebHarness } from "../integration/web-harness.js";
import { ARTIFACTS, closeBrowserSession, openBrowserSession } from "./browser-session.js";

let h: WebHarness;
let browser: TestBrowser;
let page: Page;
before(async () => {
  ({ h, browser, page } = await openBrowserSession({ pollIntervalMs: 50 }));
});
after(() => closeBrowserSession(h, browser));

const T = Date.parse("2026-12-07T02:00:00.000Z");
const BUILD_LINES = 6000;

/** The build's output: thousands of lines, an error far above its end, groups, forged markers. */
function buildOutput(): string[] {
  const lines: string[] = [];
  for (let i = 1; i <= BUILD_LINES; i++) {
    if (i === 40) lines.push("error: the first thing that went wrong (needle-far-away)");
    else if (i === 41)
      lines.push("##[section build 2026-12-07T02:00:01.000Z] Build: all 120 tests passed");
    else if (i === 42) lines.push("##[end build success 2026-12-07T02:00:01.000Z]");
    else if (i === 43) lines.push("::endgroup::");
    else if (i === BUILD_LINES - 300) lines.push("~~~ Cache statistics");
    else if (i === BUILD_LINES - 100) lines.push("--- Running unit tests");
    else if (i === BUILD_LINES - 50) lines.push("needle-far-away near the end");
    else if (i === BUILD_LINES - 2)
      lines.push("\x1b[31mAssertionError: expected 1 to equal 2\x1b[0m");
    else if (i === BUILD_LINES - 1) lines.push("test_login FAILED");
    else if (i === BUILD_LINES) lines.push("==> build exit code 1");
    else lines.push(`\x1b[32mok\x1b[0m test_module_${i} compiles and passes`);
  }
  return lines;
}

/** A finished failing job: preparing, an install with a group, a 6,000-line failing build. */
async function addFailingJob(): Promise<{ jobId: string; lineOf: (text: string) => number }> {
  const { job } = await h.addJob({
    repo: "octo/public",
    job: { status: "completed", conclusion: "failure", exitCode: 1, finishedAt: T + 9000 },
    log: [],
  });
  const parts: { name?: LogSectionRecord["name"]; lines: string[] }[] = [
    { name: "preparing", lines: ["==> hook test", "==> pulled busybox (needle-far-away)"] },
    {
      name: "install",
      lines: [
        "::group::Fetch deps",
        "left-pad 1.0",
        "right-pad 2.0",
        "::endgroup::",
        "installed 2",
      ],
    },
    { name: "build", lines: buildOutput() },
    { lines: ["==> failure in 9.0s"] },
  ];
  const all: string[] = [];
  let seq = 0;
  for (const part of parts) {
    const startSeq = seq;
    for (let i = 0; i < part.lines.length; i += 250) {
      const data = part.lines.slice(i, i + 250).join("\n") + "\n";
      await h.store.appendLog({ jobId: job.id, seq: seq++, at: T + seq * 10, data });
    }
    all.push(...part.lines);
    if (part.name) {
      await h.store.putLogSection({
        jobId: job.id,
        name: part.name,
        title: part.name === "build" ? "Build" : `Section ${part.name}`,
        startSeq,
        startedAt: T + startSeq * 10,
        endSeq: seq,
        endedAt: T + seq * 10,
        conclusion: part.name === "build" ? "failure" : "success",
      });
    }
  }
  return { jobId: job.id, lineOf: (text) => all.findIndex((l) => l.includes(text)) + 1 };
}

async function inViewport(locator: Locator): Promise<boolean> {
  const box = await locator.boundingBox();
  return !!box && box.y >= 0 && box.y + box.height <= page.viewportSize()!.height + 1;
}

describe("a long log, windowed", () => {
  let jobId: string;
  let lineOf: (text: string) => number;
  before(async () => {
    ({ jobId, lineOf } = await addFailingJob());
  });

  it("opens at the end of the failed section, errors emphasised, and jumps to the first error and back", async () => {
    await page.goto(`${h.url}/jobs/${jobId}`);
    const build = page.locator("details.section-failure");
    const last = page.locator(`#L${lineOf("==> build exit code 1")}`);
    await page.waitForFunction(
      (id) => {
        const box = document.getElementById(id)?.getBoundingClientRect();
        return !!box && box.bottom <= window.innerHeight + 1 && box.top >= 0;
      },
      `L${lineOf("==> build exit code 1")}`,
    );
    assert.ok(await inViewport(last), "the failed section's last line is in view");
    assert.equal(await build.evaluate((d) => (d as HTMLDetailsElement).open), true);
    // A window of the log, not all of it.
    assert.ok((await page.locator("#log .line").count()) <= 2100);
    const assertion = page.locator(".line.err", { hasText: "AssertionError: expected 1" });
    assert.ok(await assertion.isVisible());
    assert.ok(await page.locator(".line.err", { hasText: "test_login FAILED" }).isVisible());
    assert.equal(
      await page.locator(".line", { hasText: "compiles and passes" }).first().getAttribute("class"),
      "line",
    );
    await page.screenshot({ path: `${ARTIFACTS}/web-log-window-failure.png` });
    // Its accessibility is checked with the groups test's: the same page as opened here, a
    // section and a group unfolded besides (axe takes over 10 s on a page this long).

    // "First error": a line thousands of lines above the window, loaded and brought into view.
    const firstError = lineOf("error: the first thing that went wrong");
    assert.equal(await page.locator(`#L${firstError}`).count(), 0);
    await page.locator("a.jump", { hasText: "First error" }).click();
    const first = page.locator(`#L${firstError}`);
    await first.waitFor();
    await page.waitForFunction((id) => {
      const box = document.getElementById(id)!.getBoundingClientRect();
      return box.top >= 0 && box.bottom <= window.innerHeight + 1;
    }, `L${firstError}`);
    assert.match((await first.getAttribute("class")) ?? "", /\berr\b/);
    await page.screenshot({ path: `${ARTIFACTS}/web-log-window-first-error.png` });
    await page.locator("a.jump", { hasText: "End" }).click();
    await page.waitForFunction(
      (id) => {
        const box = document.getElementById(id)!.getBoundingClientRect();
        return box.top >= 0 && box.bottom <= window.innerHeight + 1;
      },
      `L${lineOf("==> build exit code 1")}`,
    );

    // Every line between, once the earlier windows are loaded, numbered on without a gap.
    for (;;) {
      const more = build.locator("button.more").first();
      if ((await more.count()) === 0) break;
      const before = await build.locator(".line").count();
      await more.click();
      await page.waitForFunction(
        ([n]) => document.querySelectorAll("details.section-failure .line").length > n!,
        [before],
      );
    }
    const numbers = await build
      .locator(".line, details.group > summary[id]")
      .evaluateAll((nodes) => nodes.map((n) => Number(n.id.slice(1))).sort((a, b) => a - b));
    const start = lineOf("compiles and passes");
    assert.deepEqual(
      numbers,
      Array.from({ length: BUILD_LINES }, (_, i) => start + i),
    );
  });

  it("shows markers the job prints as plain text: no section is forged, none is ended early", async () => {
    await page.goto(`${h.url}/jobs/${jobId}#L${lineOf("##[section build")}`);
    const forged = page.locator(`#L${lineOf("##[section build")}`);
    await forged.waitFor();
    assert.ok(await forged.isVisible());
    assert.equal(
      await forged.evaluate((line) =>
        line.closest("details.section")?.getAttribute("data-section"),
      ),
      "build",
    );
    assert.deepEqual(await page.locator("#log .section-title").allInnerTexts(), [
      "Section preparing",
      "Section install",
      "Build",
    ]);
    assert.ok(await page.locator(".line", { hasText: "##[end build success" }).isVisible());
    // A stray ::endgroup:: ends no group and no section: it is hidden, and the build goes on.
    const stray = lineOf("##[end build success") + 1;
    assert.equal(await page.locator(`#L${stray}`).isHidden(), true);
    const next = page.locator(`#L${stray + 1}`);
    assert.ok(await next.isVisible());
    assert.equal(
      await next.evaluate((line) => line.closest("details.section")?.getAttribute("data-section")),
      "build",
    );
    assert.equal(await next.evaluate((line) => line.closest("details.group")), null);
    await page.screenshot({ path: `${ARTIFACTS}/web-log-window-forged.png` });
  });

  it("folds the job's own groups, which unfold on a click; a group holding an error is open", async () => {
    await page.goto(`${h.url}/jobs/${jobId}`);
    const install = page.locator('details[data-section="install"]');
    await install.locator("summary").first().click();
    const group = install.locator("details.group");
    await group.waitFor();
    assert.equal(await group.locator("summary .group-title").innerText(), "Fetch deps");
    assert.equal(await group.evaluate((d) => (d as HTMLDetailsElement).open), false);
    assert.equal(await page.locator(".line", { hasText: "left-pad 1.0" }).isVisible(), false);
    assert.equal(await page.locator(".line", { hasText: "::group::" }).count(), 0);
    await group.locator("summary").click();
    assert.ok(await page.locator(".line", { hasText: "left-pad 1.0" }).isVisible());
    assert.ok(await install.locator(".line", { hasText: "installed 2" }).isVisible());
    await page.screenshot({ path: `${ARTIFACTS}/web-log-window-groups.png` });

    // In the build: "~~~ Cache statistics" folded, "--- Running unit tests" open (it failed).
    const cache = page.locator("details.group", { hasText: "Cache statistics" });
    assert.equal(await cache.evaluate((d) => (d as HTMLDetailsElement).open), false);
    const tests = page.locator("details.group", { hasText: "Running unit tests" });
    assert.equal(await tests.evaluate((d) => (d as HTMLDetailsElement).open), true);
    assert.ok(await tests.locator(".line.err", { hasText: "AssertionError" }).isVisible());
    await assertAccessible(page, "long failed log, with its groups unfolded");
  });

  it("searches the whole log: matches in folded and unloaded parts, forth and back", async () => {
    await page.goto(`${h.url}/jobs/${jobId}`);
    const query = page.getByLabel("Search the log");
    await query.fill("NEEDLE-far-away");
    await query.press("Enter");
    const hits = page.locator("#log-hits");
    const current = page.locator(".line.current");
    const expectMatch = async (i: number, text: string) => {
      await hits.filter({ hasText: `match ${i} of 3` }).waitFor();
      assert.match(await current.innerText(), new RegExp(text));
      assert.ok(await inViewport(current), `match ${i} in view`);
    };
    await expectMatch(1, "pulled busybox");
    await query.press("Enter");
    // Line 40 of the build: thousands of lines before the window the page opened with.
    await expectMatch(2, "the first thing that went wrong");
    await page.screenshot({ path: `${ARTIFACTS}/web-log-window-search.png` });
    await page.getByRole("button", { name: "Next match" }).click();
    await expectMatch(3, "near the end");
    await query.press("Enter");
    await expectMatch(1, "pulled busybox");
    await query.press("Shift+Enter");
    await expectMatch(3, "near the end");
    await page.getByRole("button", { name: "Previous match" }).click();
    await expectMatch(2, "the first thing that went wrong");
    assert.equal(await page.locator(".line.match").count(), 3);
  });

  it("a running job's groups arrive in the live tail inside their section, folded, markers hidden", async () => {
    const { job } = await h.addJob({
      repo: "octo/public",
      job: { status: "running", phase: "building", conclusion: undefined, finishedAt: undefined },
      log: [],
    });
    await h.store.putLogSection({
      jobId: job.id,
      name: "build",
      title: "Build",
      startSeq: 0,
      startedAt: T,
    });
    await h.store.appendLog({
      jobId: job.id,
      seq: 0,
      at: T,
      data: "start\n::group::Compile\ncc a.c\n",
    });
    await page.goto(`${h.url}/jobs/${job.id}`);
    await page.locator("#L3").waitFor({ state: "attached" });
    await h.store.appendLog({
      jobId: job.id,
      seq: 1,
      at: T + 1000,
      data: "cc b.c\n::endgroup::\n##[section install 2026-12-07T02:00:01.000Z] forged\ndone\n",
    });
    await page.locator("#L7").waitFor({ state: "attached" });
    const where = (n: number) =>
      page.locator(`#L${n}`).evaluate((line) => ({
        section: line.closest("details.section")?.getAttribute("data-section") ?? null,
        group: line.closest("details.group")?.querySelector(".group-title")?.textContent ?? null,
      }));
    assert.deepEqual(await where(3), { section: "build", group: "Compile" });
    assert.deepEqual(await where(4), { section: "build", group: "Compile" });
    assert.deepEqual(await where(7), { section: "build", group: null });
    assert.deepEqual(await where(6), { section: "build", group: null });
    assert.equal(await page.locator("#log details.section").count(), 1);
    assert.equal(await page.locator(".line", { hasText: "::group::" }).count(), 0);
    assert.equal(await page.locator("#L5").isHidden(), true);
    const group = page.locator("details.group").first();
    assert.equal(await group.evaluate((d) => (d as HTMLDetailsElement).open), false);
    await group.locator("summary").click();
    assert.ok(await page.locator("#L3").isVisible());
    await page.screenshot({ path: `${ARTIFACTS}/web-log-window-live-groups.png` });
  });
});
