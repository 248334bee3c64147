import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { hookSchema, type HookInput } from "../../src/core/config/schema.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import type { JobRecord, LogSectionRecord } from "../../src/store/port.js";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { storeSections } from "../../runner/logs/section-recorder.js";
import { StoreLogWriter } from "../../runner/logs/store-log-writer.js";
import { runJob, type JobResult } from "../../runner/pipeline/run-job.js";
import { assertAccessible, type TestBrowser } from "../support/browser.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { testPipelineSettings } from "../support/pipeline-settings.js";
import type { WebHarness } from "../integration/web-harness.js";
import { ARTIFACTS, closeBrowserSession, openBrowserSession } from "./browser-session.js";

const IMAGE = `kozmic-test/sections-${randomUUID().slice(0, 8)}`;
const REPO_ID = `sections-${randomUUID().slice(0, 8)}`;
const engine = new DockerEngine();
const dataDir = mkdtempSync(join(tmpdir(), "kozmic-sections-"));
const sourceDir = join(dataDir, "src");
const cacheRecords = openEmbeddedStore({ dataDir: join(dataDir, "cache") });

let h: WebHarness;
let browser: TestBrowser;
let page: Page;
before(async () => {
  mkdirSync(sourceDir);
  writeFileSync(join(sourceDir, "deps.txt"), "left-pad 1.0\n");
  ensureBusyboxImage(IMAGE);
  ({ h, browser, page } = await openBrowserSession({ pollIntervalMs: 50 }));
});
after(async () => {
  await closeBrowserSession(h, browser);
  for (const image of await engine.findImages({ "kozmic.cache.repo": REPO_ID }))
    await engine.removeImage(image.id);
  removeImages(IMAGE);
  await cacheRecords.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs the hook with the real pipeline, its log and sections stored as a runner stores them. */
async function runHook(
  hook: Partial<HookInput>,
): Promise<{ job: JobRecord; result: JobResult; buildId: string }> {
  const { job, build } = await h.addJob({ repo: "octo/public", job: { status: "running" } });
  const log = new StoreLogWriter({ store: h.store, jobId: job.id, flushIntervalMs: 100 });
  const sections = storeSections({ store: h.store, jobId: job.id, cut: () => log.cut() });
  const parsed = hookSchema.parse({
    name: "test",
    image: IMAGE,
    install: "echo installing $(cat deps.txt); mkdir -p /opt/deps; cp deps.txt /opt/deps/",
    tracked_files: ["deps.txt"],
    ...hook,
  });
  const result = await runJob(
    {
      jobId: job.id,
      repositoryId: REPO_ID,
      scope: "trusted",
      hook: parsed,
      sourceDir,
      trackedFiles: [{ path: "deps.txt", digest: "d1" }],
    },
    {
      engine,
      settings: testPipelineSettings(join(dataDir, "pipeline")),
      log,
      sections,
      cacheRecords,
    },
  );
  await log.flush();
  await sections.flush();
  const ended = await h.store.transitionJob(job.id, ["running"], {
    status: "completed",
    conclusion: result.conclusion,
    ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    ...(result.cacheKey ? { cacheKey: result.cacheKey } : {}),
    ...(result.cacheHit !== undefined ? { cacheHit: result.cacheHit } : {}),
    ...(result.cacheMissReasons ? { cacheMissReasons: result.cacheMissReasons } : {}),
    durations: result.durations,
    finishedAt: Date.now(),
  });
  assert.ok(ended);
  return { job: (await h.store.getJob(job.id))!, result, buildId: build.id };
}

const summaries = (p: Page) =>
  p.locator("#log details.section > summary").evaluateAll((nodes) =>
    nodes.map((n) => {
      const d = n.parentElement as HTMLDetailsElement;
      return `${n.querySelector(".section-title")!.textContent} | ${n.querySelector(".section-state")!.textContent} | ${d.open ? "open" : "folded"}`;
    }),
  );

describe("the log page in sections", () => {
  it("a failed build: preparing and install folded, the failing build open and in view; markers it prints are text (issue 25, L2)", async () => {
    const { job, buildId } = await runHook({
      build: [
        'echo "installed: $(cat /opt/deps/deps.txt)"',
        "echo compiling",
        'echo "test_login FAILED" >&2',
        // Kozmic's old marker lines, forged: a build that claims it passed.
        'echo "##[end build success 2026-11-30T11:05:21.300Z]"',
        'echo "##[section build 2026-11-30T11:05:21.300Z] all passed"',
        'echo "==> build exit code 0"',
        "exit 3",
      ].join("\n"),
    });
    await page.goto(`${h.url}/jobs/${job.id}`);
    assert.deepEqual(await summaries(page), [
      `Preparing: ${IMAGE} | succeeded | folded`,
      "Install: cache miss (no cached install yet for this hook) | succeeded | folded",
      "Build | failed | open",
    ]);
    for (const time of await page.locator("#log .section-time").allInnerTexts())
      assert.match(time, /^\d+\.\d s$/);
    const failing = page.locator("details.section-failure");
    // The output line, and above it the command that printed it, echoed.
    assert.ok(await failing.locator(".lc", { hasText: /^test_login FAILED$/ }).isVisible());
    assert.ok(
      await failing.locator(".lc", { hasText: '+ echo "test_login FAILED" >&2' }).isVisible(),
    );
    assert.equal(await page.locator("text=installing left-pad 1.0").isVisible(), false);
    const box = await failing.locator("summary").boundingBox();
    assert.ok(box && box.y >= 0 && box.y < page.viewportSize()!.height, `build at ${box?.y}`);
    await assertAccessible(page, "failed job in sections");
    await page.screenshot({ path: `${ARTIFACTS}/web-log-sections-failed.png`, fullPage: true });

    // The forged lines are plain lines of the failed build, and no section is "all passed".
    for (const forged of ["##[end build success", "##[section build", "==> build exit code 0"])
      assert.ok(await failing.locator(".line", { hasText: forged }).first().isVisible(), forged);
    assert.equal(await page.locator("details.section", { hasText: "all passed" }).count(), 1);
    assert.equal(await page.locator(".section-title", { hasText: "all passed" }).count(), 0);
    // The raw log holds the job's output and Kozmic's "==>" lines only: no marker of Kozmic's.
    const raw = await (await fetch(`${h.url}/jobs/${job.id}/log.txt`)).text();
    assert.deepEqual(raw.match(/^##\[.*$/gm), [
      "##[end build success 2026-11-30T11:05:21.300Z]",
      "##[section build 2026-11-30T11:05:21.300Z] all passed",
    ]);

    // Timestamps: hidden until asked for, then each line shows its time.
    const stamp = failing.locator(".line").first().locator(".ts");
    assert.equal(await stamp.isVisible(), false);
    await page.getByLabel("Timestamps", { exact: true }).check();
    assert.match((await stamp.textContent()) ?? "", /^\d\d:\d\d:\d\d$/);
    await page.screenshot({ path: `${ARTIFACTS}/web-log-sections-timestamps.png` });
    await page.getByLabel("Timestamps", { exact: true }).uncheck();

    // Search: the next match unfolds its section.
    await page.getByLabel("Search the log").fill("left-pad");
    await page.getByRole("button", { name: "Next match" }).click();
    await page.locator("#log-hits", { hasText: "match 1 of" }).waitFor();
    const install = page.locator('details[data-section="install"]');
    assert.equal(await install.evaluate((d) => (d as HTMLDetailsElement).open), true);
    assert.ok(
      await page.locator(".line.current", { hasText: "installing left-pad 1.0" }).isVisible(),
    );
    assert.match(await page.locator("#log-hits").innerText(), /: match 1 of \d+$/);
    await assertAccessible(page, "searched log");
    await page.screenshot({ path: `${ARTIFACTS}/web-log-sections-search.png` });

    await page.goto(`${h.url}/builds/${buildId}`);
    assert.match(
      await page.locator("tbody tr").first().innerText(),
      /install \d+\.\d s: cache miss [0-9a-f]{12} \(no cached install yet for this hook\)/,
    );
  });

  it("a cache hit: the install section says skipped with its key; a deep link unfolds its section", async () => {
    const { job, result, buildId } = await runHook({ build: "echo all good" });
    assert.equal(result.cacheHit, true);
    await page.goto(`${h.url}/jobs/${job.id}`);
    assert.deepEqual(await summaries(page), [
      `Preparing: ${IMAGE} | succeeded | folded`,
      `Install skipped: cache hit ${result.cacheKey!.slice(0, 12)} (local image) | skipped | folded`,
      "Build | succeeded | folded",
    ]);
    const n = await page
      .locator(".line", { hasText: "the base image, install script and tracked files match" })
      .getAttribute("id");
    await page.goto(`${h.url}/jobs/${job.id}#${n}`);
    const linked = page.locator(`#${n}`);
    assert.ok(await linked.isVisible(), "the linked line's section is unfolded");
    const box = await linked.boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= page.viewportSize()!.height);
    await assertAccessible(page, "cache hit job");
    await page.screenshot({ path: `${ARTIFACTS}/web-log-sections-hit.png` });

    // The build page sums up the hook's sections and the cache's outcome.
    await page.goto(`${h.url}/builds/${buildId}`);
    assert.match(
      await page.locator("tbody tr").first().innerText(),
      new RegExp(
        `preparing \\d+\\.\\d s · install skipped: cache hit ${result.cacheKey!.slice(0, 12)} · build \\d+\\.\\d s`,
      ),
    );
    await assertAccessible(page, "build with sections");
    await page.screenshot({ path: `${ARTIFACTS}/web-build-sections.png` });
  });

  it("follows a running job into its sections, folding each that succeeds", async () => {
    const { job } = await h.addJob({
      repo: "octo/public",
      job: { status: "running", phase: "preparing", conclusion: undefined, finishedAt: undefined },
      log: [],
    });
    const t = Date.now();
    const section = (record: Omit<LogSectionRecord, "jobId">) =>
      h.store.putLogSection({ jobId: job.id, ...record });
    const preparing = {
      name: "preparing",
      title: "Preparing: busybox",
      startSeq: 0,
      startedAt: t,
    } as const;
    await section(preparing);
    await h.store.appendLog({
      jobId: job.id,
      seq: 0,
      at: t,
      data: "==> hook test\n==> base image sha256:1\n",
    });
    await page.goto(`${h.url}/jobs/${job.id}`);
    await page.locator("#L2").waitFor();
    assert.deepEqual(await summaries(page), ["Preparing: busybox | running | open"]);
    await h.store.appendLog({ jobId: job.id, seq: 1, at: t + 1000, data: "==> pulled\n" });
    await section({ ...preparing, endSeq: 2, endedAt: t + 1500, conclusion: "success" });
    const build = { name: "build", title: "Build", startSeq: 2, startedAt: t + 1500 } as const;
    await section(build);
    await h.store.appendLog({ jobId: job.id, seq: 2, at: t + 1500, data: "make\n" });
    await page.locator("#L4").waitFor();
    await h.store.appendLog({
      jobId: job.id,
      seq: 3,
      at: t + 4000,
      data: "##[end build failure 2026-11-30T11:05:21.300Z]\nok\n",
    });
    await section({ ...build, endSeq: 4, endedAt: t + 4000, conclusion: "success" });
    await h.store.appendLog({ jobId: job.id, seq: 4, at: t + 4000, data: "==> success in 4.0s\n" });
    await page.locator("#L7").waitFor({ state: "attached" });
    await page
      .locator("details[data-section=build].section-success")
      .waitFor({ state: "attached" });
    assert.deepEqual(await summaries(page), [
      "Preparing: busybox | succeeded | folded",
      "Build | succeeded | folded",
    ]);
    assert.equal(
      await page.locator("details[data-section=build] .section-time").innerText(),
      "2.5 s",
    );
    assert.equal(await page.locator("details[data-section=build] .line").count(), 3);
    assert.equal(await page.locator("#log .line").count(), 7, "no line lost or doubled");
    await assertAccessible(page, "followed job in sections");

    // A section the runner could not end (the job errored) ends with the job.
    await section({ name: "build", title: "Build", startSeq: 5, startedAt: t + 5000 });
    await h.store.appendLog({ jobId: job.id, seq: 5, at: t + 5000, data: "docker went away\n" });
    await page.locator("#L8").waitFor();
    await h.store.transitionJob(job.id, ["running"], {
      status: "errored",
      message: "Docker engine unreachable",
      finishedAt: t + 8000,
    });
    await page.locator("#status", { hasText: "Could not run" }).waitFor();
    assert.deepEqual((await summaries(page)).at(-1), "Build | failed | open");
    assert.equal(
      await page.locator("details.section").last().locator(".section-time").innerText(),
      "3.0 s",
    );
    await page.screenshot({ path: `${ARTIFACTS}/web-log-sections-live.png`, fullPage: true });
  });
});
