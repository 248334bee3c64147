/**
 * The whole of Kozmic on this machine, with no GitHub account: a local stand-in for GitHub
 * (the fake GitHub Enterprise Server the tests use, serving git and checking every request
 * against GitHub's API description), `kozmic serve` on its embedded defaults (app, log
 * pages and runner in one process), and a signed push of examples/hello. It prints the check
 * run GitHub would show and the log page behind its "Details" link.
 *
 * usage: npx tsx scripts/demo-single-box.ts [--keep]   (--keep: serve until Ctrl-C)
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FakeGitHub, generateAppKey } from "../test/support/fake-github/index.js";
import { attachGitHttp } from "../test/support/fake-github/git-http.js";
import { createGitRepo } from "../test/support/git-repos.js";
import { postDelivery, pushPayload, signDelivery } from "../test/support/webhooks.js";
import { freePort } from "../test/support/free-port.js";
import { kozmicArgv } from "../test/support/kozmic-cli.js";

const ROOT = new URL("..", import.meta.url).pathname;
const EXAMPLE = join(ROOT, "examples/hello");
const REPO = "demo/hello";
const INSTALLATION = 1;
const SECRET = "demo-webhook-secret";
const keep = process.argv.includes("--keep");

function filesOf(dir: string): Record<string, { content: string; mode: number }> {
  const out: Record<string, { content: string; mode: number }> = {};
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else
        out[relative(dir, path)] = { content: readFileSync(path, "utf8"), mode: stat.mode & 0o777 };
    }
  };
  walk(dir);
  return out;
}

const appKey = generateAppKey();
const github = await FakeGitHub.start({
  appPublicKey: appKey.publicKeyPem,
  enterprise: true,
  description: "ghes-3.17",
});
const git = attachGitHttp(github);
const record = github.addRepository({ fullName: REPO, installationId: INSTALLATION });
const sha = createGitRepo(github, git, REPO).commit(filesOf(EXAMPLE), {
  message: "Say hello with Kozmic",
});
console.log(`demo: local GitHub stand-in at ${github.url}, ${REPO} at ${sha.slice(0, 7)}`);

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const serve = spawn(process.execPath, kozmicArgv(["serve"]), {
  cwd: ROOT,
  env: {
    ...process.env,
    APP_ID: String(github.appId),
    PRIVATE_KEY: appKey.privateKeyPem,
    WEBHOOK_SECRET: SECRET,
    PORT: String(port),
    HOST: "127.0.0.1",
    GHE_HOST: github.host,
    GHE_PROTOCOL: "http",
    KOZMIC_PUBLIC_URL: url,
    KOZMIC_DATA_DIR: process.env.KOZMIC_DATA_DIR ?? join(ROOT, ".kozmic/demo"),
    LOG_LEVEL: "warn",
  },
  stdio: ["ignore", "pipe", "inherit"],
});
let served = "";
serve.stdout!.on("data", (chunk: Buffer) => {
  served += chunk.toString();
  process.stdout.write(chunk);
});
const stop = async (code: number) => {
  serve.kill("SIGTERM");
  await new Promise((resolve) => serve.once("exit", resolve));
  git.close();
  await github.close();
  process.exit(code);
};
for (let i = 0; i < 300 && !served.includes("listening on"); i++) await sleep(100);
if (!served.includes("listening on")) {
  console.error("demo: kozmic serve did not start");
  await stop(1);
}

const target = {
  fullName: REPO,
  id: record.id,
  installationId: INSTALLATION,
  cloneUrl: `${github.origin}/${REPO}.git`,
};
const response = await postDelivery(
  `${url}/api/github/webhooks`,
  signDelivery("push", pushPayload(target, { sha }), SECRET),
);
console.log(`demo: push delivered to the app, answered ${response.status}`);

let lastStatus = "";
for (let i = 0; i < 1200; i++) {
  const run = github.checkRunsOf(REPO, sha)[0];
  if (run && run.status !== lastStatus) {
    lastStatus = run.status;
    console.log(
      `demo: check run "${run.name}" is ${run.status}${run.conclusion ? `: ${run.conclusion}` : ""}`,
    );
  }
  if (run?.status === "completed") {
    console.log(`\n${run.output?.title ?? ""}\n${run.output?.summary ?? ""}\n`);
    const log = await (await fetch(`${run.details_url}/log.txt`)).text();
    console.log(`demo: the log behind "Details" (${run.details_url}):\n${log}`);
    if (keep) {
      console.log(`demo: open ${run.details_url} in a browser; Ctrl-C stops the demo`);
      process.once("SIGINT", () => void stop(0));
      await new Promise(() => {});
    }
    const violations = github.violations.length;
    if (violations)
      console.error(`demo: ${violations} request(s) outside GitHub's API description`);
    await stop(run.conclusion === "success" && violations === 0 ? 0 : 1);
  }
  await sleep(100);
}
console.error("demo: the check run did not complete within 2 minutes");
await stop(1);
