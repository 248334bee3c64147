import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Page } from "playwright-core";
import { generateAppKey } from "../support/fake-github/app-key.js";
import { FakeGitHub } from "../support/fake-github/index.js";
import { assertAccessible, launchBrowser, type TestBrowser } from "../support/browser.js";
import { freePort } from "../support/free-port.js";
import { kozmicArgv } from "../support/kozmic-cli.js";
import { postDelivery, pushPayload, signDelivery } from "../support/webhooks.js";

const ARTIFACTS = "test-artifacts";
const ROOT = new URL("../..", import.meta.url).pathname;

let fake: FakeGitHub;
let browser: TestBrowser;
let page: Page;
/** A working directory, and its ./.kozmic: where a user who types `kozmic serve` keeps data. */
let home: string;
let dir: string;
let url: string;
const children: ChildProcess[] = [];

/** `kozmic serve` without App credentials, on GitHub Enterprise Server's layout (the fake). */
async function startServe(
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; output: () => string }> {
  const port = Number(new URL(url).port);
  const child = spawn(process.execPath, kozmicArgv(["serve", ...args]), {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      PORT: String(port),
      HOST: "127.0.0.1",
      KOZMIC_PUBLIC_URL: url,
      GHE_HOST: fake.host,
      GHE_PROTOCOL: "http",
      KOZMIC_DATA_DIR: dir,
      KOZMIC_EMBEDDED_RUNNER: "false",
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

async function waitFor(output: () => string, pattern: RegExp, what: string): Promise<void> {
  for (let i = 0; i < 300 && !pattern.test(output()); i++) await sleep(100);
  assert.match(output(), pattern, what);
}

/** The one-time code `kozmic serve` printed on its console. */
function setupCode(output: () => string): string {
  const code = /set-up code: ([A-Z2-9]{5}(?:-[A-Z2-9]{5}){3})/.exec(output())?.[1];
  assert.ok(code, `the console shows a set-up code:\n${output()}`);
  return code;
}

/** The operator: enters the console's code on the page, then sees the set-up page. */
async function unlock(output: () => string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel("Set-up code").fill(setupCode(output).toLowerCase());
  await page.getByRole("button", { name: "Continue" }).click();
  await page.locator("h1", { hasText: "Set up Kozmic" }).waitFor();
  await page.locator('input[name="manifest"]').waitFor({ state: "attached" });
}

/** A plain HTTP GET (any Host header, any cookie), as a script would send it. */
async function rawGet(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The state of the registration form on the page the browser shows now. */
async function stateOnPage(): Promise<string> {
  const action = (await page.locator("form[method=post]").getAttribute("action"))!;
  return new URL(action).searchParams.get("state")!;
}

async function stop(child: ChildProcess): Promise<unknown> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill("SIGTERM");
  return new Promise((resolve) => child.once("exit", resolve));
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // Its first app is not the one registered below; JWTs of that one are refused until then.
  fake = await FakeGitHub.start({
    appPublicKey: generateAppKey().publicKeyPem,
    enterprise: true,
    description: "ghes-3.17",
  });
  home = mkdtempSync(join(tmpdir(), "kozmic-setup-"));
  dir = join(home, ".kozmic");
  url = `http://127.0.0.1:${await freePort()}`;
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

after(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  }
  await browser?.close();
  await fake?.close();
  rmSync(home, { recursive: true, force: true });
});

describe("kozmic serve without a GitHub App", () => {
  it("registers the App in one click, saves its credentials and goes on as it", async () => {
    const serve = await startServe();
    await waitFor(
      serve.output,
      /no GitHub App yet .*open http:\/\/127\.0\.0\.1:\d+\/ to register one/,
      "the set-up page is announced",
    );

    await unlock(serve.output);
    assert.equal(await page.locator("h1").innerText(), "Set up Kozmic");
    const manifest = JSON.parse(
      (await page.locator('input[name="manifest"]').getAttribute("value"))!,
    ) as Record<string, unknown>;
    assert.deepEqual(manifest.hook_attributes, { url: `${url}/api/github/webhooks`, active: true });
    assert.equal(manifest.redirect_url, `${url}/setup/callback`);
    assert.deepEqual(manifest.callback_urls, [`${url}/login/callback`]);
    assert.deepEqual(manifest.default_events, ["push", "pull_request", "check_run", "check_suite"]);
    assert.match(
      (await page.locator("form[method=post]").getAttribute("action"))!,
      new RegExp(`^${fake.origin}/settings/apps/new\\?state=[0-9a-f]{40}$`),
    );
    await assertAccessible(page, "set-up");
    await page.screenshot({ path: `${ARTIFACTS}/setup-page.png`, fullPage: true });

    // For an organization, under another name: the form then posts to the organization's page.
    await page.getByLabel("Organization (empty for your personal account)").fill("acme");
    await page.getByLabel(/App name/).fill("Kozmic for Acme");
    await page.getByRole("button", { name: "Use these" }).click();
    assert.match(
      (await page.locator("form[method=post]").getAttribute("action"))!,
      new RegExp(`^${fake.origin}/organizations/acme/settings/apps/new\\?state=`),
    );
    assert.match(await page.locator("main").innerText(), /for the organization acme/);

    await page.getByRole("button", { name: "Register GitHub App" }).click();
    await page.locator("h1", { hasText: "GitHub App registered" }).waitFor();
    const [registered] = fake.registeredApps;
    assert.equal(registered?.owner, "acme");
    assert.equal(registered?.manifest.name, "Kozmic for Acme");
    assert.ok(
      fake.requests.some((r) => r.operationId === "apps/create-from-manifest" && r.status === 201),
      "the code was exchanged through the REST API",
    );
    assert.deepEqual(fake.violations, []);
    assert.equal(
      await page.getByRole("link", { name: "Install it on repositories" }).getAttribute("href"),
      `${fake.origin}/apps/kozmic-for-acme/installations/new`,
    );
    await assertAccessible(page, "registered");
    await page.screenshot({ path: `${ARTIFACTS}/setup-registered.png`, fullPage: true });

    const envFile = join(dir, ".env");
    assert.equal(statSync(envFile).mode & 0o777, 0o600);
    const saved = Object.fromEntries(
      readFileSync(envFile, "utf8")
        .split("\n")
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    assert.equal(saved.APP_ID, String(fake.appId));
    assert.deepEqual(Object.keys(saved).sort(), [
      "APP_ID",
      "GHE_HOST",
      "GHE_PROTOCOL",
      "GITHUB_CLIENT_ID",
      "GITHUB_CLIENT_SECRET",
      "KOZMIC_PUBLIC_URL",
      "KOZMIC_SECRETS_KEY",
      "KOZMIC_SESSION_SECRET",
      "PRIVATE_KEY",
      "WEBHOOK_SECRET",
    ]);
    assert.match(saved.KOZMIC_SECRETS_KEY!, /^[0-9a-f]{64}$/, "set-up made a secrets key");

    // Without a restart: the same process now takes webhooks signed with the new secret and
    // plans with the new App's key (the fake accepts only its JWTs now).
    await waitFor(
      serve.output,
      /going on as the GitHub App[\s\S]*listening on/,
      "serving as the App",
    );
    assert.equal(serve.child.exitCode, null);
    const repo = fake.addRepository({ fullName: "acme/widgets", installationId: 31 });
    const sha = "ab".repeat(20);
    fake.addCommit(
      "acme/widgets",
      sha,
      { ".github/kozmic.yml": "hooks:\n  - name: test\n    image: busybox\n    build: 'true'\n" },
      "main",
    );
    const target = { fullName: repo.fullName, id: repo.id, installationId: 31 };
    const delivery = signDelivery("push", pushPayload(target, { sha }), saved.WEBHOOK_SECRET!);
    const response = await postDelivery(`${url}/api/github/webhooks`, delivery);
    assert.equal(response.status, 202, await response.text());
    for (let i = 0; i < 100 && fake.checkRunsOf("acme/widgets", sha).length === 0; i++)
      await sleep(100);
    assert.deepEqual(
      fake.checkRunsOf("acme/widgets", sha).map((run) => [run.name, run.status]),
      [["test", "queued"]],
    );

    // The other commands, typed in the same directory with nothing set by hand, are the App
    // too: a secret is set and listed, and doctor finds the App and the secrets key.
    // Asynchronously: the fake GitHub they call runs in this process.
    const typed = (args: string[], input = "") =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, kozmicArgv(args), {
          cwd: home,
          env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
        });
        children.push(child);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
        child.stdin.end(input);
      });
    const set = await typed(["secrets", "set", "acme/widgets", "DEPLOY_TOKEN"], "s3cr3t-value-1\n");
    assert.equal(set.status, 0, set.stderr);
    const listed = await typed(["secrets", "ls", "acme/widgets"]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /^DEPLOY_TOKEN\b/m);
    assert.doesNotMatch(listed.stdout + set.stdout + set.stderr, /s3cr3t-value-1/);
    const doctor = await typed(["doctor", "--no-probe"]);
    const line = (check: string) =>
      doctor.stdout.split("\n").find((l) => l.slice(8).startsWith(`${check}:`)) ?? "";
    assert.match(
      line("github app"),
      new RegExp(`^ok {6}github app: .*knows App \\S+ \\(id ${fake.appId}\\)`),
      doctor.stdout,
    );
    assert.match(line("secrets"), /^ok {6}secrets: KOZMIC_SECRETS_KEY is set$/);
    assert.match(line("data directory"), /^ok /);
    assert.match(line("public URL"), /^ok /, "the saved KOZMIC_PUBLIC_URL, where serve answers");
    // The only other problem doctor may find is this test machine's engine without a bridge.
    const problems = doctor.stdout.split("\n").filter((l) => l.startsWith("problem"));
    assert.ok(
      problems.every((l) => /^problem job network: the Docker engine has no "bridge"/.test(l)),
      doctor.stdout,
    );
    serve.child.kill("SIGTERM");
    await new Promise((resolve) => serve.child.once("exit", resolve));

    // Started again, it reads the saved settings and is the App at once.
    const again = await startServe();
    await waitFor(
      again.output,
      /GitHub App settings from .*\.env[\s\S]*listening on/,
      "the saved App",
    );
    assert.doesNotMatch(again.output(), /no GitHub App yet/);
    again.child.kill("SIGTERM");
    await new Promise((resolve) => again.child.once("exit", resolve));
  });

  it("refuses a callback it did not start, and says a used code must be registered again", async () => {
    rmSync(join(dir, ".env"));
    const serve = await startServe();
    await waitFor(serve.output, /no GitHub App yet/, "the set-up page");
    await unlock(serve.output);
    const forged = await page.goto(`${url}/setup/callback?code=abc&state=${"0".repeat(40)}`);
    assert.equal(forged?.status(), 400);
    assert.match(await page.locator("main").innerText(), /does not come from a registration/);

    await page.goto(`${url}/`);
    const state = await stateOnPage();
    const used = await page.goto(`${url}/setup/callback?code=deadbeef&state=${state}`);
    assert.equal(used?.status(), 502);
    assert.match(
      await page.locator("main").innerText(),
      /a code works once and for an hour; register again/,
    );
    assert.equal(serve.child.exitCode, null, "still waiting for a registration");
    assert.equal(await stop(serve.child), 0);
  });

  it("a stranger without the console's code gets no state, no session and no App", async () => {
    const exchanges = () =>
      fake.requests.filter((r) => r.operationId === "apps/create-from-manifest").length;
    const exchangedBefore = exchanges();
    const serve = await startServe();
    await waitFor(serve.output, /set-up code: /, "the code on the console");
    const stranger = await rawGet("/");
    assert.equal(stranger.status, 200);
    assert.match(stranger.body, /enter the set-up code/);
    assert.doesNotMatch(stranger.body, /state=|name="manifest"/, "nothing to register with");

    // Guessing: refused, and the page says so.
    const guess = await fetch(`${url}/setup/unlock`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "code=AAAAA-BBBBB-CCCCC-DDDDD",
      redirect: "manual",
    });
    assert.equal(guess.status, 403);
    assert.equal(guess.headers.get("set-cookie"), null);
    assert.match(await guess.text(), /That is not the set-up code/);

    // The operator spends the code; the same code from another browser is refused then.
    await unlock(serve.output);
    const operatorState = await stateOnPage();
    const again = await fetch(`${url}/setup/unlock`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `code=${setupCode(serve.output)}`,
      redirect: "manual",
    });
    assert.equal(again.status, 403, "a code works once");

    // The operator's state, in a request without the operator's session (GitHub's redirect
    // of an App the stranger registered with it): refused, nothing saved.
    const foreign = await rawGet(`/setup/callback?code=abc&state=${operatorState}`);
    assert.equal(foreign.status, 400);
    assert.match(foreign.body, /does not come from a registration started in this browser/);
    const forgedCookie = await rawGet(`/setup/callback?code=abc&state=${operatorState}`, {
      cookie: "kozmic_setup=" + "A".repeat(32),
    });
    assert.equal(forgedCookie.status, 400);
    assert.equal(exchanges(), exchangedBefore, "no code was exchanged for the stranger");
    assert.throws(() => statSync(join(dir, ".env")), /ENOENT/);

    // The operator's state still works once in the operator's browser, and not twice.
    const first = await page.goto(`${url}/setup/callback?code=used&state=${operatorState}`);
    assert.equal(first?.status(), 502, "the state was accepted; the fake refuses the code");
    const replay = await page.goto(`${url}/setup/callback?code=used&state=${operatorState}`);
    assert.equal(replay?.status(), 400, "a state is used once");
    assert.match(await page.locator("main").innerText(), /unknown, used or expired/);
    assert.equal(await stop(serve.child), 0);
  });

  it("ignores the Host header, logs the address it binds and says nothing on /healthz", async () => {
    const serve = await startServe(["--print-credentials"], {
      KOZMIC_PUBLIC_URL: "https://lambda.example.test",
    });
    await waitFor(serve.output, /set-up code: /, "the code on the console");
    assert.match(serve.output(), new RegExp(`listening on ${url.replace(/\./g, "\\.")}\\)`));
    await unlock(serve.output);
    const cookie = (await browser.context.cookies(url)).find((c) => c.name === "kozmic_setup");
    assert.ok(cookie, "the session cookie");
    const page2 = await rawGet("/", {
      host: "attacker.example.test",
      cookie: `kozmic_setup=${cookie.value}`,
    });
    assert.equal(page2.status, 200);
    const manifest = JSON.parse(
      /name="manifest" value="([^"]*)"/
        .exec(page2.body)![1]!
        .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))),
    ) as { redirect_url: string; hook_attributes: { url: string } };
    assert.equal(manifest.redirect_url, `${url}/setup/callback`);
    assert.equal(manifest.hook_attributes.url, "https://lambda.example.test/api/github/webhooks");
    assert.doesNotMatch(page2.body, /attacker/);

    const health = await rawGet("/healthz");
    assert.equal(health.status, 503);
    assert.doesNotMatch(health.body, /set|app|kozmic|github/i);
    assert.equal(await stop(serve.child), 0);
  });

  it("binds where HOST says, every interface by default, and logs that address", async () => {
    const serve = await startServe([], { HOST: "" });
    const port = new URL(url).port;
    await waitFor(serve.output, /set-up code: /, "the code on the console");
    assert.match(serve.output(), new RegExp(`\\(listening on http://0\\.0\\.0\\.0:${port}\\)`));
    assert.doesNotMatch(serve.output(), /listening on http:\/\/localhost/);
    assert.equal(await stop(serve.child), 0);
  });

  it("--print-credentials: registers an App for webhooks elsewhere and prints its settings once", async () => {
    const serve = await startServe(["--print-credentials"], {
      KOZMIC_PUBLIC_URL: "https://lambda.example.test",
    });
    await waitFor(
      serve.output,
      /open http:\/\/127\.0\.0\.1:\d+\/ to register a GitHub App whose webhooks go to https:\/\/lambda\.example\.test\/api\/github\/webhooks/,
      "the page",
    );
    await unlock(serve.output);
    const manifest = JSON.parse(
      (await page.locator('input[name="manifest"]').getAttribute("value"))!,
    ) as { hook_attributes: { url: string }; redirect_url: string };
    assert.equal(manifest.hook_attributes.url, "https://lambda.example.test/api/github/webhooks");
    assert.equal(manifest.redirect_url, `${url}/setup/callback`);
    await page.getByRole("button", { name: "Register GitHub App" }).click();
    await page.locator("h1", { hasText: "GitHub App registered" }).waitFor();
    assert.match(await page.locator("main").innerText(), /printed once .* saved nowhere/);
    for (let i = 0; i < 100 && serve.child.exitCode === null; i++) await sleep(100);
    assert.equal(serve.child.exitCode, 0, serve.output());
    assert.match(serve.output(), new RegExp(`^APP_ID=${fake.appId}$`, "m"));
    const json = serve
      .output()
      .split("\n")
      .find((line) => line.startsWith("{"));
    assert.deepEqual(Object.keys(JSON.parse(json!) as object), [
      "PRIVATE_KEY",
      "WEBHOOK_SECRET",
      "GITHUB_CLIENT_SECRET",
      "KOZMIC_SESSION_SECRET",
    ]);
    assert.throws(() => statSync(join(dir, ".env")), /ENOENT/, "nothing saved");
  });
});
