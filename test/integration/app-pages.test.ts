import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { createWebApp } from "../../src/web/web-app.js";
import { createRepositoryFinder } from "../../src/web/find-repository-with-app.js";
import type { WebSettings } from "../../src/settings/web-settings.js";
import { assertHandled, AppHarness } from "../support/app-harness.js";
import { FakeOAuth } from "../support/fake-oauth.js";
import { pushPayload } from "../support/webhooks.js";
import { SESSION_SECRET, signIn } from "./web-harness.js";

/**
 * The log pages as `kozmic serve` mounts them: on the app's own server, finding repositories
 * through the app's GitHub auth, with Re-run and Cancel done by the app.
 */
describe("the app serves the log pages and their buttons", () => {
  let h: AppHarness;
  let oauth: FakeOAuth;
  let pages: ReturnType<typeof createWebApp> | undefined;
  const settings: WebSettings = {
    publicUrl: "",
    githubWebUrl: "",
    githubApiUrl: "",
    oauth: { enabled: false, missing: [] },
  };

  before(async () => {
    oauth = await FakeOAuth.start();
    settings.githubWebUrl = oauth.webUrl;
    settings.githubApiUrl = oauth.apiUrl;
    settings.oauth = {
      enabled: true,
      clientId: oauth.clientId,
      clientSecret: oauth.clientSecret,
      sessionSecret: SESSION_SECRET,
    };
    h = await AppHarness.start({
      pagesFor: (app, store) =>
        (pages = createWebApp({
          store,
          settings,
          actions: app.actions,
          findRepository: createRepositoryFinder(app.auth),
        })),
    });
    // The OAuth callback comes back to the server, whose port is known only now.
    settings.publicUrl = h.app.url;
  });
  after(async () => {
    pages?.close();
    await h.stop();
    await oauth.close();
  });
  afterEach(() => {
    assert.deepEqual(h.fake.violations, [], "the app sent requests outside GitHub's API");
    assert.deepEqual(oauth.violations, []);
  });

  async function pushedBuild() {
    const { target, sha } = h.repository();
    oauth.addRepository(target.fullName, { private: false, access: { alice: "write" } });
    const res = await h.deliver("push", pushPayload(target, { sha }));
    assertHandled(res);
    const [first] = await h.drain();
    assert.ok(first);
    return { target, sha, buildId: first.buildId, jobId: first.jobId };
  }

  async function csrfOf(cookie: string, path: string): Promise<string> {
    const body = await (await fetch(`${h.app.url}${path}`, { headers: { cookie } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(body)?.[1];
    assert.ok(csrf, `no CSRF token on ${path} for a user with write access`);
    return csrf;
  }

  async function post(path: string, cookie: string, form: Record<string, string>) {
    return fetch(`${h.app.url}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    });
  }

  it("a pushed job's page and badge are served by the app's server", async () => {
    const { target, jobId } = await pushedBuild();
    const page = await fetch(`${h.app.url}/jobs/${jobId}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, new RegExp(target.fullName));
    assert.match(html, /queued/i);
    const badge = await fetch(`${h.app.url}/badges/${target.fullName}.svg?branch=main&hook=test`);
    assert.equal(badge.status, 200);
    assert.match(badge.headers.get("content-type") ?? "", /svg/);
    const unknown = await fetch(`${h.app.url}/badges/acme/not-installed.svg`);
    assert.equal(unknown.status, 404);
  });

  it("Re-run on the build page plans the hook again with new check runs", async () => {
    const { target, sha, buildId } = await pushedBuild();
    const cookie = await signIn(h.app.url, oauth, "alice");
    const csrf = await csrfOf(cookie, `/builds/${buildId}`);
    const res = await post(`/builds/${buildId}/rerun`, cookie, { csrf, hook: "test" });
    assert.equal(res.status, 303);
    const progress = res.headers.get("location")!;
    assert.match(progress, new RegExp(`^/builds/${buildId}/reruns/[0-9a-f-]{36}\\?hook=test$`));
    await h.app.idle();

    const [rerun, ...more] = await h.drain();
    assert.equal(more.length, 0);
    assert.equal(rerun?.event, "rerun");
    assert.equal((rerun?.hook as { name: string }).name, "test");
    assert.equal(rerun?.sha, sha);
    const runs = h.fake.checkRunsOf(target.fullName, sha).filter((r) => r.name === "test");
    assert.equal(runs.length, 2, "the re-run has its own check run");
    assert.equal(runs.find((r) => r.external_id === rerun?.jobId)?.status, "queued");
    const build = await h.store.getBuild(rerun!.buildId);
    assert.equal(build?.trigger, "rerun by alice");
    // Where the button led: once planned, on to the new job's page.
    const onward = await fetch(`${h.app.url}${progress}`, { redirect: "manual" });
    assert.equal(onward.status, 303);
    assert.equal(onward.headers.get("location"), `/jobs/${rerun!.jobId}`);
  });

  it("Run on the repository page builds the branch's head with the inputs, only hooks allowing manual", async () => {
    const yml = [
      "hooks:",
      "  - name: test",
      "    image: alpine:3",
      "    build: echo $GREETING",
      "  - name: push-only",
      "    image: alpine:3",
      "    build: make",
      "    on: [push]",
      "",
    ].join("\n");
    const { target, sha } = h.repository({ ".github/kozmic.yml": yml });
    oauth.addRepository(target.fullName, {
      private: false,
      access: { alice: "write", bob: "read" },
    });
    // The commit was built by its push: a run by hand is a build of its own all the same.
    assertHandled(await h.deliver("push", pushPayload(target, { sha })));
    await h.drain();

    const reader = await signIn(h.app.url, oauth, "bob");
    const readerPage = await (
      await fetch(`${h.app.url}/repos/${target.fullName}`, { headers: { cookie: reader } })
    ).text();
    assert.doesNotMatch(readerPage, /\/run"/, "a reader gets no Run form");

    const cookie = await signIn(h.app.url, oauth, "alice");
    const csrf = await csrfOf(cookie, `/repos/${target.fullName}`);
    const refused = await post(`/repos/${target.fullName}/run`, reader, { csrf, branch: "main" });
    assert.equal(refused.status, 403);
    const bad = await post(`/repos/${target.fullName}/run`, cookie, {
      csrf,
      branch: "main",
      inputs: "not an input",
    });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Input line 1 is not NAME=value/);
    assert.deepEqual(await h.drain(), []);

    const res = await post(`/repos/${target.fullName}/run`, cookie, {
      csrf,
      branch: "main",
      inputs: "GREETING=hello world\r\n\r\nLEVEL=3",
    });
    assert.equal(res.status, 303);
    const back = res.headers.get("location")!;
    assert.match(back, new RegExp(`^/repos/${target.fullName}\\?run=`));
    await h.app.idle();
    const [job, ...more] = await h.drain();
    assert.equal(more.length, 0, "push-only does not run by hand");
    assert.equal(job?.event, "manual");
    assert.equal(job?.sha, sha);
    assert.equal(job?.ref, "refs/heads/main");
    const hook = job?.hook as { name: string; env: Record<string, string> };
    assert.equal(hook.name, "test");
    assert.deepEqual(hook.env, { GREETING: "hello world", LEVEL: "3" });
    const build = await h.store.getBuild(job!.buildId);
    assert.equal(build?.event, "manual");
    assert.equal(build?.trigger, "alice");
    assert.equal(back, `/repos/${target.fullName}?run=${build!.id}`);
    const runs = h.fake.checkRunsOf(target.fullName, sha).filter((r) => r.name === "test");
    assert.equal(runs.length, 2, "the push's check run and the manual run's");
    const page = await (await fetch(`${h.app.url}${back}`, { headers: { cookie } })).text();
    assert.match(page, /Run asked for/);
    assert.match(page, /manual by alice/);

    // A branch GitHub does not have builds nothing.
    await post(`/repos/${target.fullName}/run`, cookie, { csrf, branch: "nope" });
    await h.app.idle();
    assert.deepEqual(await h.drain(), []);
  });

  it("Cancel on the job page ends a queued job and completes its check run", async () => {
    const { target, sha, jobId } = await pushedBuild();
    const cookie = await signIn(h.app.url, oauth, "alice");
    const csrf = await csrfOf(cookie, `/jobs/${jobId}`);
    const res = await post(`/jobs/${jobId}/cancel`, cookie, { csrf });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), `/jobs/${jobId}`);
    // The page the button returns to says so at once, with no second Cancel button.
    const returned = await (
      await fetch(`${h.app.url}/jobs/${jobId}`, { headers: { cookie } })
    ).text();
    assert.ok(
      /Cancelling…/.test(returned) || /Cancelled/.test(returned),
      "the job page says the job is being cancelled",
    );
    assert.doesNotMatch(returned, /\/cancel"/);
    await h.app.idle();

    const job = await h.store.getJob(jobId);
    assert.equal(job?.status, "completed");
    assert.equal(job?.conclusion, "cancelled");
    assert.match(job?.message ?? "", /Cancelled by alice/);
    const run = h.fake.checkRunsOf(target.fullName, sha).find((r) => r.external_id === jobId);
    assert.equal(run?.status, "completed");
    assert.equal(run?.conclusion, "cancelled");
  });

  it("someone without write access cannot cancel through the app", async () => {
    const { jobId } = await pushedBuild();
    const cookie = await signIn(h.app.url, oauth, "bob");
    const page = await (await fetch(`${h.app.url}/jobs/${jobId}`, { headers: { cookie } })).text();
    assert.doesNotMatch(page, /\/cancel"/, "no Cancel button for a reader");
    const res = await post(`/jobs/${jobId}/cancel`, cookie, { csrf: "forged" });
    assert.ok(res.status >= 400 && res.status < 500);
    assert.equal((await h.store.getJob(jobId))?.status, "queued");
  });
});
