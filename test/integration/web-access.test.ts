import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cookieOf, startWebHarness, type WebHarness } from "./web-harness.js";

// Every endpoint x (anonymous, signed in without access, with read access, with write access)
// x (public, private): what each viewer gets, and that a refusal looks like an unknown id.

type Viewer = "anonymous" | "bob" | "carol" | "alice";
const VIEWERS: Viewer[] = ["anonymous", "bob", "carol", "alice"];

let h: WebHarness;
const cookies = new Map<Viewer, string>();
const jobs = new Map<string, { jobId: string; buildId: string }>();

before(async () => {
  h = await startWebHarness();
  for (const login of ["bob", "carol", "alice"] as const) cookies.set(login, await h.signIn(login));
  for (const repo of ["octo/public", "octo/secret"]) {
    const { build, job } = await h.addJob({
      repo,
      job: { status: "running", phase: "building", conclusion: undefined, finishedAt: undefined },
      log: [`secret-ish output of ${repo}\n`],
    });
    jobs.set(repo, { jobId: job.id, buildId: build.id });
    // A finished job of the same build, for the live tail to end and re-run to apply.
    await h.store.transitionJob(job.id, ["running"], {
      status: "completed",
      conclusion: "success",
    });
  }
});
after(() => h.close());

async function get(path: string, viewer: Viewer) {
  const cookie = cookies.get(viewer);
  const res = await fetch(`${h.url}${path}`, {
    redirect: "manual",
    headers: cookie ? { cookie } : {},
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

async function csrfOf(viewer: Viewer, page: string): Promise<string | undefined> {
  const { body } = await get(page, viewer);
  return /name="csrf" value="([^"]+)"/.exec(body)?.[1];
}

async function post(path: string, viewer: Viewer, form: Record<string, string>) {
  const cookie = cookies.get(viewer);
  const res = await fetch(`${h.url}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(cookie ? { cookie } : {}),
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: await res.text(), location: res.headers.get("location") };
}

const readEndpoints = (repo: string) => {
  const { jobId, buildId } = jobs.get(repo)!;
  return {
    page: `/jobs/${jobId}`,
    raw: `/jobs/${jobId}/log.txt`,
    live: `/jobs/${jobId}/live?seq=0`,
    lines: `/jobs/${jobId}/lines?from=1&to=5`,
    search: `/jobs/${jobId}/search?q=output`,
    build: `/builds/${buildId}`,
    repository: `/repos/${repo}`,
    badge: `/badges/${repo}.svg?branch=main`,
    rerun: `/builds/${buildId}/reruns/build-not-yet?hook=test`,
  };
};

describe("public repository", () => {
  for (const viewer of VIEWERS) {
    it(`${viewer} reads every endpoint`, async () => {
      for (const [name, path] of Object.entries(readEndpoints("octo/public"))) {
        const res = await get(path, viewer);
        assert.equal(res.status, 200, `${name} ${path}: ${res.body.slice(0, 300)}`);
        if (name === "raw") assert.equal(res.body, "secret-ish output of octo/public\n");
        if (name === "page") assert.match(res.body, /secret-ish output of octo\/public/);
        if (name === "live") assert.match(res.body, /event: end/);
        if (name === "lines") assert.match(res.body, /secret-ish output of octo\/public/);
        if (name === "search")
          assert.deepEqual(JSON.parse(res.body), { lines: [1], capped: false });
        if (name === "badge") assert.match(res.body, /<svg[^>]*aria-label="kozmic: passing"/);
      }
    });
  }

  it("shows re-run buttons only to alice, who can push", async () => {
    const { build } = readEndpoints("octo/public");
    for (const viewer of VIEWERS) {
      const { body } = await get(build, viewer);
      assert.equal(/Re-run/.test(body), viewer === "alice", viewer);
    }
  });

  it("refuses actions to anyone who cannot push, with a reason", async () => {
    const { jobId, buildId } = jobs.get("octo/public")!;
    const anonymous = await post(`/builds/${buildId}/rerun`, "anonymous", {});
    assert.equal(anonymous.status, 403);
    assert.match(anonymous.body, /Sign in with GitHub/);
    const bobCsrf = await csrfOf("bob", `/builds/${buildId}`);
    assert.ok(bobCsrf, "bob is signed in and gets a CSRF token for the sign-out form");
    const bob = await post(`/jobs/${jobId}/cancel`, "bob", { csrf: bobCsrf });
    assert.equal(bob.status, 403);
    assert.match(bob.body, /bob cannot push to this repository/);
    assert.deepEqual(h.actions, []);
  });

  it("lets alice re-run with her CSRF token, and not with another session's", async () => {
    const { buildId } = jobs.get("octo/public")!;
    const bobCsrf = (await csrfOf("bob", `/builds/${buildId}`))!;
    const forged = await post(`/builds/${buildId}/rerun`, "alice", { csrf: bobCsrf, hook: "test" });
    assert.equal(forged.status, 403);
    assert.match(forged.body, /CSRF token/);
    const missing = await post(`/builds/${buildId}/rerun`, "alice", { hook: "test" });
    assert.equal(missing.status, 403);

    const csrf = (await csrfOf("alice", `/builds/${buildId}`))!;
    const ok = await post(`/builds/${buildId}/rerun`, "alice", { csrf, hook: "test" });
    assert.equal(ok.status, 303);
    // On to the new build's page, which waits for the planner to make it.
    assert.deepEqual(
      h.reruns.map((r) => [r.from.id, r.hook]),
      [[buildId, "test"]],
    );
    assert.equal(ok.location, `/builds/${buildId}/reruns/${h.reruns[0]!.buildId}?hook=test`);
    const waiting = await get(ok.location!, "alice");
    assert.equal(waiting.status, 200);
    assert.match(waiting.body, /Re-run of <strong>test<\/strong> asked for: Kozmic is planning it/);
    // The planner makes the build: the same address now leads to its job's page.
    const { job: made } = await h.addJob({
      repo: "octo/public",
      build: { id: h.reruns[0]!.buildId, event: "rerun", trigger: "rerun by alice" },
      job: { status: "queued", conclusion: undefined },
    });
    const onward = await get(ok.location!, "alice");
    assert.equal(onward.status, 303);
    assert.equal(onward.headers.get("location"), `/jobs/${made.id}`);
    // A build of another repository is not where a re-run of this one leads.
    const other = jobs.get("octo/secret")!.buildId;
    const elsewhere = await get(`/builds/${buildId}/reruns/${other}?hook=test`, "alice");
    assert.equal(elsewhere.status, 404);
    const unknownHook = await post(`/builds/${buildId}/rerun`, "alice", { csrf, hook: "nope" });
    assert.equal(unknownHook.status, 400);
    assert.match(unknownHook.body, /no hook named &#34;nope&#34;/);
    assert.deepEqual(h.actions, [`rerun ${buildId} test by alice`]);
    h.actions.length = 0;
    h.reruns.length = 0;
  });
});

describe("private repository", () => {
  for (const viewer of ["anonymous", "bob"] as const) {
    it(`${viewer} gets the same 404 as for an unknown id, on every endpoint`, async () => {
      const unknown = {
        page: "/jobs/job-unknown",
        raw: "/jobs/job-unknown/log.txt",
        live: "/jobs/job-unknown/live?seq=0",
        lines: "/jobs/job-unknown/lines?from=1&to=5",
        search: "/jobs/job-unknown/search?q=output",
        build: "/builds/build-unknown",
        repository: "/repos/octo/unknown",
        badge: "/badges/octo/unknown.svg?branch=main",
        rerun: "/builds/build-unknown/reruns/build-not-yet?hook=test",
      };
      const { jobId, buildId } = jobs.get("octo/secret")!;
      for (const [name, path] of Object.entries(readEndpoints("octo/secret"))) {
        const res = await get(path, viewer);
        const other = await get(unknown[name as keyof typeof unknown], viewer);
        assert.equal(res.status, 404, `${name} ${path}`);
        assert.equal(other.status, 404, `${name} unknown`);
        // Pages echo the requested address (to return to after sign-in), nothing else.
        const normalise = (body: string, asked: string) =>
          body.replaceAll(encodeURIComponent(asked), "PATH").replaceAll(asked, "PATH");
        assert.equal(
          normalise(res.body, path),
          normalise(other.body, unknown[name as keyof typeof unknown]),
          `${name}: same answer as unknown`,
        );
        assert.doesNotMatch(normalise(res.body, path), /secret-ish|octo\/secret|octo%2Fsecret/);
        assert.equal(res.headers.get("content-type"), other.headers.get("content-type"));
      }
      for (const [path, form] of [
        [`/jobs/${jobId}/cancel`, {}],
        [`/builds/${buildId}/rerun`, {}],
      ] as const) {
        const res = await post(path, viewer, form);
        assert.equal(res.status, 404, path);
      }
      if (viewer === "anonymous") {
        const page = await get(`/jobs/${jobId}`, viewer);
        assert.match(page.body, /sign in with GitHub/);
      }
    });
  }

  for (const viewer of ["carol", "alice"] as const) {
    it(`${viewer} (can read) sees every endpoint`, async () => {
      for (const [name, path] of Object.entries(readEndpoints("octo/secret"))) {
        const res = await get(path, viewer);
        assert.equal(res.status, 200, `${name} ${path}`);
        if (name === "raw") assert.equal(res.body, "secret-ish output of octo/secret\n");
        if (name === "badge") assert.equal(res.headers.get("cache-control"), "private, no-store");
      }
    });
  }

  it("carol (read only) cannot cancel; alice can", async () => {
    const { job } = await h.addJob({
      repo: "octo/secret",
      job: { status: "running", phase: "building", conclusion: undefined },
    });
    const carolCsrf = (await csrfOf("carol", `/jobs/${job.id}`))!;
    const carol = await post(`/jobs/${job.id}/cancel`, "carol", { csrf: carolCsrf });
    assert.equal(carol.status, 403);
    assert.doesNotMatch((await get(`/jobs/${job.id}`, "carol")).body, />Cancel</);

    assert.match((await get(`/jobs/${job.id}`, "alice")).body, />Cancel</);
    const csrf = (await csrfOf("alice", `/jobs/${job.id}`))!;
    const alice = await post(`/jobs/${job.id}/cancel`, "alice", { csrf });
    assert.equal(alice.status, 303);
    assert.equal(alice.location, `/jobs/${job.id}`);
    assert.deepEqual(h.actions, [`cancel ${job.id} by alice`]);
    assert.equal((await h.store.getJob(job.id))?.cancelRequested, true);
    // The page the form returns to (no script needed) says so, and offers no second Cancel.
    const after = (await get(`/jobs/${job.id}`, "alice")).body;
    assert.match(
      after,
      /<span id="status" role="status"><span class="state state-running">Cancelling…<\/span><\/span>/,
    );
    assert.doesNotMatch(after, />Cancel</);
  });

  it("asks GitHub once per user and repository while the answer is fresh", async () => {
    const before = h.oauth.apiRequests.filter(
      (r) => r === "GET /repos/octo/secret as carol",
    ).length;
    for (let i = 0; i < 3; i++) await get(readEndpoints("octo/secret").page, "carol");
    const after = h.oauth.apiRequests.filter((r) => r === "GET /repos/octo/secret as carol").length;
    assert.equal(after, before);
    assert.ok(before >= 1);
    assert.deepEqual(h.oauth.violations, []);
  });

  it("asks GitHub again for every POST: a demoted admin's change is refused at once", async () => {
    const repo = h.oauth.addRepository("octo/vaulted", {
      private: true,
      access: { dave: "admin" },
    });
    const dave = await h.signIn("dave");
    const page = await fetch(`${h.url}/repos/octo/vaulted/secrets`, { headers: { cookie: dave } });
    assert.equal(page.status, 200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;

    repo.access.set("dave", "read"); // demoted on GitHub, within the pages' cache time
    const set = await fetch(`${h.url}/repos/octo/vaulted/secrets`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: dave },
      body: new URLSearchParams({ csrf, name: "DEPLOY_KEY", value: "planted" }).toString(),
    });
    assert.equal(set.status, 403);
    assert.match(await set.text(), /dave is not an admin of octo\/vaulted/);
    assert.deepEqual(await h.store.listSecrets(repo.id), []);
  });

  it("hides the old public logs of a repository made private since", async () => {
    const repo = h.oauth.addRepository("octo/flipped", {
      private: false,
      access: { alice: "write" },
    });
    const { job } = await h.addJob({ repo: "octo/flipped", log: ["from when it was public\n"] });
    assert.equal((await get(`/jobs/${job.id}/log.txt`, "anonymous")).status, 200);
    repo.private = true;
    // The harness's findRepository answers from the fake without a cache, as if it had expired.
    for (const path of [
      `/jobs/${job.id}`,
      `/jobs/${job.id}/log.txt`,
      `/jobs/${job.id}/live?seq=0`,
      `/jobs/${job.id}/lines?from=1&to=5`,
      `/jobs/${job.id}/search?q=public`,
    ]) {
      assert.equal((await get(path, "anonymous")).status, 404, path);
      assert.equal((await get(path, "bob")).status, 404, path);
    }
    assert.equal((await get(`/jobs/${job.id}/log.txt`, "alice")).body, "from when it was public\n");
  });
});

describe("while GitHub cannot be asked", () => {
  // A separate harness: repositories are looked up as the app on a fake GitHub whose
  // failures can be injected, and nothing GitHub said is remembered between requests.
  let g: WebHarness;
  let carol: string;
  let secret: { jobId: string; buildId: string };
  let openJobId: string;
  before(async () => {
    g = await startWebHarness({ appGitHub: true, accessTtlMs: 0 });
    carol = await g.signIn("carol");
    const { job, build } = await g.addJob({ repo: "octo/secret", log: ["classified-text\n"] });
    secret = { jobId: job.id, buildId: build.id };
    openJobId = (await g.addJob({ repo: "octo/public", log: ["open\n"] })).job.id;
  });
  after(() => g.close());

  const endpoints = (jobId: string, buildId: string, repo: string) => ({
    page: `/jobs/${jobId}`,
    raw: `/jobs/${jobId}/log.txt`,
    live: `/jobs/${jobId}/live?seq=0`,
    build: `/builds/${buildId}`,
    repository: `/repos/${repo}`,
    badge: `/badges/${repo}.svg?branch=main`,
  });

  async function fetchAs(path: string, cookie: string | undefined) {
    const res = await fetch(`${g.url}${path}`, {
      redirect: "manual",
      headers: cookie ? { cookie } : {},
    });
    return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
  }

  /** Every endpoint of the private repository answers exactly as for ids that do not exist. */
  async function assertSameAsUnknown(viewer: string, cookie: string | undefined, only?: string[]) {
    const asked = endpoints(secret.jobId, secret.buildId, "octo/secret");
    const unknown = endpoints(`job-${randomUUID()}`, `build-${randomUUID()}`, "octo/unknown");
    for (const name of only ?? Object.keys(asked)) {
      const path = asked[name as keyof typeof asked];
      const unknownPath = unknown[name as keyof typeof unknown];
      const res = await fetchAs(path, cookie);
      const missing = await fetchAs(unknownPath, cookie);
      const normalise = (body: string, address: string) =>
        body.replaceAll(encodeURIComponent(address), "PATH").replaceAll(address, "PATH");
      assert.equal(res.status, 404, `${viewer} ${name}: ${res.body.slice(0, 200)}`);
      assert.deepEqual(
        { ...res, body: normalise(res.body, path) },
        { ...missing, body: normalise(missing.body, unknownPath) },
        `${viewer} ${name}: the answer for an id that does not exist`,
      );
      assert.doesNotMatch(normalise(res.body, path), /classified-text|octo\/secret|Unavailable/);
    }
  }

  const outages = {
    "GitHub answers 502 and 503": {
      cut() {
        g.github!.failFor(60_000, 502);
        g.oauth.apiDown = true;
      },
      restore() {
        g.github!.clearFailures();
        g.oauth.apiDown = false;
      },
    },
    "GitHub cannot be reached": {
      cut: () => g.setGitHubLine("unreachable"),
      restore: () => g.setGitHubLine("up"),
    },
    "GitHub's answers are a proxy's error page": {
      cut: () => g.setGitHubLine("garbled"),
      restore: () => g.setGitHubLine("up"),
    },
  };

  for (const [outage, { cut, restore }] of Object.entries(outages)) {
    it(`${outage}: a private repository answers its ids as unknown ones, to carol and to anonymous`, async () => {
      assert.equal((await fetchAs(`/jobs/${secret.jobId}/log.txt`, carol)).status, 200);
      cut();
      try {
        await assertSameAsUnknown("carol", carol);
        await assertSameAsUnknown("anonymous", undefined);
        // A build's recorded visibility still opens the logs of public repositories.
        const open = await fetchAs(`/jobs/${openJobId}/log.txt`, carol);
        assert.equal(open.body, "open\n");
      } finally {
        restore();
      }
      assert.equal((await fetchAs(`/jobs/${secret.jobId}/log.txt`, carol)).status, 200);
    });

    it(`${outage}: a sign-in answers 503 and says GitHub could not be reached`, async () => {
      g.oauth.signInAs = "dave";
      const start = await fetch(`${g.url}/login?return_to=/`, { redirect: "manual" });
      const authorize = await fetch(start.headers.get("location")!, { redirect: "manual" });
      cut();
      try {
        const callback = await fetch(authorize.headers.get("location")!, {
          redirect: "manual",
          headers: { cookie: cookieOf(start) },
        });
        assert.equal(callback.status, 503);
        assert.match(await callback.text(), /GitHub could not be reached to sign you in/);
        assert.deepEqual(callback.headers.getSetCookie(), [], "no session");
      } finally {
        restore();
      }
    });
  }

  it("a lookup that fails only after the installation was found answers like a name never installed", async () => {
    // An unknown name stops at GET /repos/{owner}/{repo}/installation (404); an installed
    // one goes on to GET /repos/{owner}/{repo}. Failing only that call must not tell them apart.
    const bob = await g.signIn("bob");
    g.github!.failNext(1000, 502, { method: "GET", path: /^\/repos\/[^/]+\/[^/]+$/ });
    try {
      for (const [viewer, cookie] of [
        ["anonymous", undefined],
        ["bob", bob],
        ["carol", carol],
      ] as const) {
        await assertSameAsUnknown(viewer, cookie, ["repository", "badge"]);
      }
    } finally {
      g.github!.clearFailures();
    }
    assert.equal((await fetchAs("/repos/octo/secret", carol)).status, 200);
    assert.deepEqual(g.github!.violations, []);
  });
});
