import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Hono } from "hono";
import { lambdaHttpHandler } from "../../src/http/lambda-http.js";
import { createWebApp } from "../../src/web/web-app.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";
import { freePort } from "../support/free-port.js";
import { kozmicArgv } from "../support/kozmic-cli.js";

const HOSTILE = "/<script>alert(document.cookie)</script>?x=<img/src=x/onerror=alert(1)>";

/** A GET of `path` exactly as written: no client-side encoding of `<` and `>`. */
function rawGet(
  origin: string,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${origin}/`, { path }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the answer for a path nobody serves", () => {
  const key = generateAppKey();
  let fake: FakeGitHub;
  let dir: string;
  let child: ChildProcess;
  let origin: string;

  before(async () => {
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 52, enterprise: true });
    dir = mkdtempSync(join(tmpdir(), "kozmic-fallback-"));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, kozmicArgv(["serve"]), {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        APP_ID: "52",
        PRIVATE_KEY: key.privateKeyPem,
        WEBHOOK_SECRET: "secret",
        GHE_HOST: fake.host,
        GHE_PROTOCOL: "http",
        PORT: String(port),
        HOST: "127.0.0.1",
        KOZMIC_DATA_DIR: dir,
        KOZMIC_EMBEDDED_RUNNER: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const read = (d: Buffer) => {
        output += d.toString();
        if (/listening on/.test(output)) resolve();
      };
      child.stdout!.on("data", read);
      child.stderr!.on("data", read);
      child.once("exit", (code) => reject(new Error(`kozmic serve exited ${code}:\n${output}`)));
    });
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("kozmic serve answers a fixed text with nosniff, never the path it was sent", async () => {
    for (const path of [HOSTILE, "/%3Cscript%3Ealert(1)%3C/script%3E", "/metrics"]) {
      const answer = await rawGet(origin, path);
      assert.equal(answer.status, 404, path);
      assert.equal(answer.body, "Not found.\n", path);
      assert.equal(answer.headers["x-content-type-options"], "nosniff");
      assert.match(String(answer.headers["content-type"]), /^text\/plain/);
    }
  });

  it("the Lambda's pages answer the same", async () => {
    const store = openEmbeddedStore({ dataDir: dir });
    const pages = createWebApp({
      store,
      settings: {
        publicUrl: "https://ci.example.test",
        githubWebUrl: "https://github.com",
        githubApiUrl: "https://api.github.com",
        oauth: { enabled: false, missing: [] },
      },
      actions: { rerun: () => Promise.reject(new Error("no")), cancel: () => Promise.resolve() },
      findRepository: () => Promise.resolve(undefined),
    });
    try {
      const lambda = lambdaHttpHandler(
        new Hono().all("*", (c) => pages.app.fetch(c.req.raw, c.env)),
      );
      const answer = await lambda({
        rawPath: "/<script>alert(1)</script>",
        rawQueryString: "",
        headers: {},
        requestContext: { http: { method: "GET" } },
      });
      assert.equal(answer.statusCode, 404);
      assert.equal(answer.body, "Not found.\n");
      assert.equal(answer.headers["x-content-type-options"], "nosniff");
    } finally {
      await store.close();
    }
  });
});
