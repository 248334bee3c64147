import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";
import { attachGitHttp, type FakeGitHttp } from "../support/fake-github/git-http.js";
import { createGitRepo, type GitRepo } from "../support/git-repos.js";
import { postDelivery, pushPayload, signDelivery } from "../support/webhooks.js";
import { ensureBusyboxImage } from "../support/images.js";
import { removeCacheImagesOf, RUNNER_IMAGE } from "./runner-harness.js";
import { freePort } from "../support/free-port.js";
import { kozmicArgv } from "../support/kozmic-cli.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const SECRET = "single-box-secret";

/**
 * Kozmic's single-box deployment: one `kozmic serve` process on its embedded defaults takes
 * a webhook, runs the job in Docker, completes the check run and serves the log page.
 */
describe("kozmic serve on its embedded defaults runs the whole flow", () => {
  const appKey = generateAppKey();
  const installationId = 4343;
  let fake: FakeGitHub;
  let git: FakeGitHttp;
  let repo: GitRepo;
  let dir: string;
  let child: ChildProcess;
  let output = "";
  /** Where the pages say they are (no KOZMIC_PUBLIC_URL: localhost and PORT). */
  let url: string;
  /** Where the test reaches the server. */
  let local: string;
  const repoId = 20_000_000 + Math.floor(Math.random() * 1_000_000_000);

  before(async () => {
    ensureBusyboxImage(RUNNER_IMAGE);
    // GHE_HOST is how Kozmic talks to anything but github.com: GitHub Enterprise Server's layout.
    fake = await FakeGitHub.start({
      appPublicKey: appKey.publicKeyPem,
      enterprise: true,
      description: "ghes-3.17",
    });
    git = attachGitHttp(fake);
    fake.addRepository({ fullName: "acme/single-box", installationId }).id = repoId;
    repo = createGitRepo(fake, git, "acme/single-box");
    dir = mkdtempSync(join(tmpdir(), "kozmic-single-box-"));
    const port = await freePort();
    url = `http://localhost:${port}`;
    local = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, kozmicArgv(["serve"]), {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        APP_ID: String(fake.appId),
        PRIVATE_KEY: appKey.privateKeyPem,
        WEBHOOK_SECRET: SECRET,
        PORT: String(port),
        HOST: "127.0.0.1",
        GHE_HOST: fake.host,
        GHE_PROTOCOL: "http",
        // No KOZMIC_PUBLIC_URL: the pages and the runner's links both follow PORT.
        KOZMIC_DATA_DIR: dir,
        KOZMIC_RUNNER_CONCURRENCY: "1",
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    for (let i = 0; i < 200 && !/listening on/.test(output); i++) await sleep(100);
    assert.match(output, /listening on .*running jobs here \(1 at once\)/);
  });

  after(async () => {
    if (child.exitCode === null) {
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    git.close();
    await fake.close();
    removeCacheImagesOf([repoId]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("a push ends in a successful check run whose Details link shows the log", async () => {
    const sha = repo.commit({
      ".github/kozmic.yml": [
        "hooks:",
        "  - name: test",
        `    image: ${RUNNER_IMAGE}`,
        "    install: echo installing",
        "    build: echo hello from the single box && cat greeting.txt",
        "",
      ].join("\n"),
      "greeting.txt": "kozmic says hi\n",
    });
    const target = {
      fullName: "acme/single-box",
      id: repoId,
      installationId,
      cloneUrl: `${fake.origin}/acme/single-box.git`,
    };
    const delivery = signDelivery("push", pushPayload(target, { sha }), SECRET);
    const response = await postDelivery(`${local}/api/github/webhooks`, delivery);
    assert.equal(response.status, 202, await response.text());

    let run;
    for (let i = 0; i < 600; i++) {
      run = fake.checkRunsOf("acme/single-box", sha).find((r) => r.name === "test");
      if (run?.status === "completed") break;
      await sleep(100);
    }
    assert.equal(
      run?.status,
      "completed",
      `the check run did not complete:\n${output}\n${JSON.stringify(fake.requests.map((r) => `${r.method} ${r.path}`))}`,
    );
    assert.equal(run.conclusion, "success", run.output?.summary ?? undefined);
    assert.equal(run.details_url, `${url}/jobs/${run.external_id}`);
    assert.ok(
      run.output?.summary?.includes(`(${url}/jobs/${run.external_id})`),
      `the summary links the log where the pages are: ${run.output?.summary}`,
    );

    const raw = await fetch(`${local}/jobs/${run.external_id}/log.txt`);
    assert.equal(raw.status, 200);
    const log = await raw.text();
    assert.match(log, /hello from the single box/);
    assert.match(log, /kozmic says hi/);
    const page = await (await fetch(`${local}/jobs/${run.external_id}`)).text();
    assert.match(page, /hello from the single box/);
    assert.deepEqual(fake.violations, []);
  });

  it("stops cleanly on SIGTERM", async () => {
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    assert.equal(code, 0, output);
  });
});
