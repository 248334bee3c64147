import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readSettings, type Env } from "../../src/settings/read-settings.js";
import { SettingsError } from "../../src/settings/settings-error.js";
import { cookieOf, startWebHarness, type WebHarness } from "./web-harness.js";

const readWebSettings = (env: Env) => readSettings(env, ["web"]).web;

let h: WebHarness;
let secretJob: string;
before(async () => {
  h = await startWebHarness();
  secretJob = (await h.addJob({ repo: "octo/secret", log: ["top secret\n"] })).job.id;
});
after(() => h.close());

/** A GET whose path reaches the server byte for byte; the whole answer as text. */
function rawGet(path: string): Promise<string> {
  const { port } = new URL(h.url);
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () =>
      socket.end(`GET ${path} HTTP/1.1\r\nHost: kozmic.test\r\nConnection: close\r\n\r\n`),
    );
    const parts: Buffer[] = [];
    socket.on("data", (part) => parts.push(part));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(parts).toString("utf8")));
  });
}

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.url}${path}`, { redirect: "manual", headers });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe("hostile input", () => {
  it("answers path tricks with 404 and leaks nothing", async () => {
    for (const path of [
      `/jobs/..%2f..%2fetc%2fpasswd`,
      `/jobs/%2e%2e%2f${secretJob}`,
      `/jobs/..%2F${secretJob}`,
      `/jobs/${secretJob}%2flog.txt`,
      `/jobs/${secretJob}/..%2flog.txt`,
      `/jobs/a%5c..%5c${secretJob}`,
      `/jobs/${secretJob}%00`,
      `/badges/octo/..%2fsecret.svg`,
      `/badges/octo%2fsecret.svg`,
      `/repos/octo/secret/../../jobs`,
      `/assets/..%2fserve-assets.ts`,
      `/jobs/${"x".repeat(300)}`,
      `/jobs`,
      `/jobs/${secretJob}/nope`,
    ]) {
      const res = await get(path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body, /top secret|octo\/secret</, path);
    }
    // fetch() would resolve a dot segment itself (to /, the home page): sent as it is.
    const answer = await rawGet("/jobs/%2e%2e");
    assert.match(answer, /^HTTP\/1\.1 404 /);
    assert.doesNotMatch(answer, /top secret|octo\/secret</);
  });

  it("treats an id of another installation's private repository as unknown", async () => {
    h.oauth.addRepository("other/vault", { private: true, access: { dave: "write" } });
    const { job, build } = await h.addJob({
      repo: "other/vault",
      build: { installationId: 99 },
      log: ["vault contents\n"],
    });
    const carol = await h.signIn("carol");
    for (const path of [
      `/jobs/${job.id}`,
      `/jobs/${job.id}/log.txt`,
      `/builds/${build.id}`,
      "/repos/other/vault",
    ]) {
      const res = await get(path, { cookie: carol });
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body, /vault contents/);
    }
    const dave = await h.signIn("dave");
    assert.equal((await get(`/jobs/${job.id}/log.txt`, { cookie: dave })).body, "vault contents\n");
  });

  it("answers malformed percent-encoding with 400", async () => {
    const res = await get("/jobs/%E0%A4%A");
    assert.equal(res.status, 400);
    assert.match(res.body, /malformed percent-encoding/);
  });

  it("answers an oversized address with 414 and says the limit", async () => {
    const res = await get(`/jobs/${secretJob}?page=1&x=${"a".repeat(5000)}`);
    assert.equal(res.status, 414);
    assert.match(res.body, /longer than 2048 characters/);
    assert.doesNotMatch(res.body, /top secret/);
  });

  it("rejects bad query parameters with a 400 that names them", async () => {
    const { job } = await h.addJob({ repo: "octo/public", log: ["x\n"] });
    for (const query of ["from=-1", "from=abc", "to=1e3", "to=99999999999"]) {
      const res = await get(`/jobs/${job.id}/lines?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(res.body, /(from|to) must be a whole number from 0 to/);
      assert.match(res.headers.get("content-type")!, /^text\/plain/);
    }
    const seq = await get(`/jobs/${job.id}/live?seq=x`);
    assert.equal(seq.status, 400);
    const lastId = await get(`/jobs/${job.id}/live`, { "last-event-id": "../1" });
    assert.equal(lastId.status, 400);
    assert.match(lastId.body, /Last-Event-ID/);
    const badge = await get(`/badges/octo/public.svg?branch=${"b".repeat(300)}`);
    assert.equal(badge.status, 400);
  });

  it("refuses wrong methods, form types and oversized forms", async () => {
    const { job } = await h.addJob({ repo: "octo/public", log: ["x\n"] });
    const put = await fetch(`${h.url}/jobs/${job.id}`, { method: "PUT" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, HEAD");
    const running = await h.addJob({
      repo: "octo/public",
      job: { status: "running", phase: "building", conclusion: undefined },
    });
    const head = await fetch(`${h.url}/jobs/${running.job.id}/live`, { method: "HEAD" });
    assert.equal(head.status, 200, "HEAD of a running job's live tail answers at once");
    assert.match(head.headers.get("content-type")!, /^text\/event-stream/);
    const getCancel = await fetch(`${h.url}/jobs/${job.id}/cancel`);
    assert.equal(getCancel.status, 405);
    const json = await fetch(`${h.url}/jobs/${job.id}/cancel`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(json.status, 415);
    const big = await fetch(`${h.url}/jobs/${job.id}/cancel`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `csrf=${"a".repeat(20_000)}`,
    });
    assert.equal(big.status, 413);
    assert.deepEqual(h.actions, []);
  });

  it("escapes hostile hook names, triggers and log text", async () => {
    const { job, build } = await h.addJob({
      repo: "octo/public",
      job: { hook: `<img src=x onerror=alert(1)>` },
      build: { trigger: `"><script>alert(2)</script>` },
      log: ["<script>alert(3)</script>\x1b[31m<svg onload=alert(4)>\n"],
    });
    for (const path of [`/jobs/${job.id}`, `/builds/${build.id}`, "/repos/octo/public"]) {
      const { body, headers } = await get(path);
      assert.doesNotMatch(body, /<img src=x|<script>alert|<svg onload/, path);
      assert.match(headers.get("content-security-policy")!, /script-src 'self'/);
    }
  });

  it("answers a path under none of the pages' with the fixed 404, never the path", async () => {
    const res = await get("/api/github/webhooks");
    assert.equal(res.status, 404);
    assert.equal(res.body, "Not found.\n");
  });
});

describe("sign-in", () => {
  it("sets a sealed, HTTP-only, SameSite=Lax session cookie and returns to the page", async () => {
    h.oauth.signInAs = "carol";
    const start = await fetch(
      `${h.url}/login?return_to=${encodeURIComponent(`/jobs/${secretJob}`)}`,
      {
        redirect: "manual",
      },
    );
    assert.equal(start.status, 302);
    const authorize = new URL(start.headers.get("location")!);
    assert.equal(authorize.origin + authorize.pathname, `${h.oauth.webUrl}/login/oauth/authorize`);
    assert.equal(authorize.searchParams.get("redirect_uri"), `${h.url}/login/callback`);
    assert.ok((authorize.searchParams.get("state") ?? "").length >= 32);
    const back = await fetch(authorize, { redirect: "manual" });
    const callback = await fetch(back.headers.get("location")!, {
      redirect: "manual",
      headers: { cookie: cookieOf(start) },
    });
    assert.equal(callback.status, 303);
    assert.equal(callback.headers.get("location"), `/jobs/${secretJob}`);
    const [session, cleared] = callback.headers.getSetCookie();
    assert.match(
      session!,
      /^kozmic_session=[A-Za-z0-9_-]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax$/,
    );
    assert.match(cleared!, /^kozmic_oauth=; .*Max-Age=0/);
    assert.doesNotMatch(session!, /ghu_/, "the token inside is encrypted");
    const page = await get(`/jobs/${secretJob}`, { cookie: session!.split(";")[0]! });
    assert.equal(page.status, 200);
    assert.match(page.body, /top secret/);
    assert.match(page.body, /Signed in as <strong>carol<\/strong>/);
  });

  it("refuses a callback whose state does not match the one it started", async () => {
    const start = await fetch(`${h.url}/login`, { redirect: "manual" });
    const back = await fetch(start.headers.get("location")!, { redirect: "manual" });
    const callbackUrl = new URL(back.headers.get("location")!);
    callbackUrl.searchParams.set("state", "forged-state");
    const forged = await fetch(callbackUrl, {
      redirect: "manual",
      headers: { cookie: cookieOf(start) },
    });
    assert.equal(forged.status, 400);
    assert.match(await forged.text(), /not started here or has expired/);
    assert.deepEqual(forged.headers.getSetCookie(), []);
    const noCookie = await fetch(back.headers.get("location")!, { redirect: "manual" });
    assert.equal(noCookie.status, 400);
  });

  it("never returns to another site, nor to a path a Location header cannot carry", async () => {
    // Each return_to as it stands in the query string, and where the finished sign-in lands.
    for (const [query, location] of [
      ["return_to=/jobs/%E3%80%80x", "/"], // U+3000, percent-encoded in the query
      ["return_to=/jobs/\u3000x", "/"], // U+3000 typed as it is (fetch encodes it)
      ["return_to=/jobs/x%0D%0ASet-Cookie:%20evil=1", "/"],
      ["return_to=/jobs/x%0Ay", "/"],
      ["return_to=/jobs/x%00", "/"],
      ["return_to=//evil.example", "/"],
      ["return_to=/%5Cevil.example", "/"],
      ["return_to=/\\evil.example", "/"],
      ["return_to=https://evil.example/", "/"],
      ["return_to=jobs/x", "/"],
      ["return_to=/jobs/a%20b", "/"],
      ["return_to=/jobs/%C3%A9", "/"],
      // U+3000 percent-encoded in the address itself, as a browser sends it: kept.
      ["return_to=%2Fjobs%2F%25E3%2580%2580x", "/jobs/%E3%80%80x"],
    ]) {
      h.oauth.signInAs = "bob";
      const start = await fetch(`${h.url}/login?${query}`, { redirect: "manual" });
      assert.equal(start.status, 302, query);
      const back = await fetch(start.headers.get("location")!, { redirect: "manual" });
      const callback = await fetch(back.headers.get("location")!, {
        redirect: "manual",
        headers: { cookie: cookieOf(start) },
      });
      assert.equal(callback.status, 303, `${query}: ${await callback.text()}`);
      assert.equal(callback.headers.get("location"), location, query);
      assert.match(cookieOf(callback), /^kozmic_session=./, `${query}: signed in`);
    }
  });

  it("answers a request line with raw UTF-8 bytes with 400 before any sign-in starts", async () => {
    const { port } = new URL(h.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => {
        socket.end(
          Buffer.concat([
            Buffer.from("GET /login?return_to=/jobs/"),
            Buffer.from("\u3000x", "utf8"),
            Buffer.from(" HTTP/1.1\r\nHost: kozmic.test\r\nConnection: close\r\n\r\n"),
          ]),
        );
      });
      const parts: Buffer[] = [];
      socket.on("data", (part) => parts.push(part));
      socket.on("error", reject);
      socket.on("close", () => resolve(Buffer.concat(parts).toString("latin1")));
    });
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.doesNotMatch(answer, /set-cookie/i);
  });

  it("ignores a tampered session cookie", async () => {
    const cookie = await h.signIn("alice");
    const tampered = cookie.slice(0, -3) + (cookie.endsWith("A") ? "BBB" : "AAA");
    const res = await get(`/jobs/${secretJob}`, { cookie: tampered });
    assert.equal(res.status, 404);
    assert.doesNotMatch(res.body, /Signed in/);
  });

  it("signs out with the CSRF token of the session", async () => {
    const cookie = await h.signIn("alice");
    const page = await get(`/jobs/${secretJob}`, { cookie });
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const out = await fetch(`${h.url}/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, return_to: `/jobs/${secretJob}` }).toString(),
    });
    assert.equal(out.status, 303);
    assert.match(out.headers.getSetCookie()[0]!, /^kozmic_session=; .*Max-Age=0/);

    // A copy of the cookie taken before the logout is refused, though its 8 hours have not passed.
    const replayed = await get(`/jobs/${secretJob}`, { cookie });
    assert.equal(replayed.status, 404);
    assert.doesNotMatch(replayed.body, /Signed in|alice/);
    const again = await h.signIn("alice");
    assert.equal(
      (await get(`/jobs/${secretJob}`, { cookie: again })).status,
      200,
      "a new sign-in works",
    );
  });

  it("marks cookies Secure when the public URL is https", async () => {
    const secure = await startWebHarness({ publicUrl: "https://ci.example.com" });
    try {
      const res = await fetch(`${secure.url}/login`, { redirect: "manual" });
      assert.match(res.headers.getSetCookie()[0]!, /; Secure$/);
      assert.match(
        res.headers.get("location")!,
        /redirect_uri=https%3A%2F%2Fci.example.com%2Flogin%2Fcallback/,
      );
    } finally {
      await secure.close();
    }
  });
});

describe("without OAuth settings", () => {
  it("explains on the login page that private repositories cannot be viewed; public ones work", async () => {
    const plain = await startWebHarness({ oauth: false });
    try {
      const login = await fetch(`${plain.url}/login`);
      assert.equal(login.status, 503);
      const body = await login.text();
      assert.match(body, /private repositories cannot be viewed/);
      assert.match(body, /GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET/);
      const { job } = await plain.addJob({ repo: "octo/secret", log: ["s\n"] });
      const hidden = await fetch(`${plain.url}/jobs/${job.id}`);
      assert.equal(hidden.status, 404);
      assert.match(await hidden.text(), /signing in is not configured/);
      const { job: open } = await plain.addJob({ repo: "octo/public", log: ["p\n"] });
      assert.equal((await fetch(`${plain.url}/jobs/${open.id}`)).status, 200);
    } finally {
      await plain.close();
    }
  });

  it("readWebSettings: login off when a variable is missing, clear errors for bad values", () => {
    const off = readWebSettings({ GITHUB_CLIENT_ID: "x" });
    assert.deepEqual(off.oauth, {
      enabled: false,
      missing: ["GITHUB_CLIENT_SECRET", "KOZMIC_SESSION_SECRET"],
    });
    assert.equal(off.githubWebUrl, "https://github.com");
    assert.equal(off.githubApiUrl, "https://api.github.com");
    assert.equal(readWebSettings({ PORT: "8080" }).publicUrl, "http://localhost:8080");
    const on = readWebSettings({
      GITHUB_CLIENT_ID: "id",
      GITHUB_CLIENT_SECRET: "secret",
      KOZMIC_SESSION_SECRET: "s".repeat(32),
      KOZMIC_PUBLIC_URL: "https://ci.example.com/",
      GHE_HOST: "ghe.example.com",
    });
    assert.equal(on.oauth.enabled, true);
    assert.equal(on.publicUrl, "https://ci.example.com");
    assert.equal(on.githubApiUrl, "https://ghe.example.com/api/v3");
    assert.throws(
      () => readWebSettings({ KOZMIC_SESSION_SECRET: "short" }),
      (error: unknown) => {
        assert.ok(error instanceof SettingsError);
        assert.match(error.message, /KOZMIC_SESSION_SECRET must be at least 32 characters/);
        return true;
      },
    );
    assert.throws(
      () => readWebSettings({ KOZMIC_PUBLIC_URL: "ftp://x" }),
      /KOZMIC_PUBLIC_URL must be/,
    );
  });
});
