// The webhook path as GitHub meets it: the real `kozmic serve` process (compiled CLI,
// production settings: Octokit's write pacing on, one write a second per installation,
// embedded queue and store) against the fake GitHub (Enterprise Server paths), timed from
// this process:
//   1. One push of 20 hooks: delivery to the last check run created. Baseline: the floor
//      pacing sets, the same 20 check runs created straight through a paced Octokit.
//   2. Answer time of 50 concurrent signed pushes (each of another repository and
//      installation, 2 hooks each), POST to answer, p50 and p99, while the server's planner
//      works behind the answers. Baseline: a bare node:http server in a process of its own
//      that reads the same POST, checks its signature and answers.
//   npx tsx bench/webhooks.bench.ts   (builds first: npm run build)
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createInstallationOctokit } from "../src/checks/create-installation-octokit.js";
import { newSha } from "../test/support/app-harness.js";
import { FakeGitHub, generateAppKey } from "../test/support/fake-github/index.js";
import { kozmicArgv } from "../test/support/kozmic-cli.js";
import {
  pushPayload,
  signDelivery,
  type Delivery,
  type TargetRepository,
} from "../test/support/webhooks.js";

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const ROUNDS = 4;
const HOOKS = 20;
const SECRET = "bench-webhook-secret";

const BARE_SERVER = `
const { createHmac } = require("node:crypto");
const server = require("node:http").createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const expected = "sha256=" + createHmac("sha256", ${JSON.stringify(SECRET)}).update(body).digest("hex");
    const ok = req.headers["x-hub-signature-256"] === expected;
    JSON.parse(body.toString("utf8"));
    res.writeHead(ok ? 202 : 401).end(ok ? "ok\\n" : "bad signature\\n");
  });
});
server.listen(0, "127.0.0.1", () => console.log("listening on http://127.0.0.1:" + server.address().port + ","));
`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Starts a server process and resolves with the URL it prints ("listening on <url>,"). */
function startServer(
  argv: string[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, argv, {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const match = /listening on (http:\/\/\S+?),/.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.on("exit", (code) => reject(new Error(`server exited ${code} before listening: ${out}`)));
  });
}

async function measure(url: string, rounds: Delivery[][]): Promise<number[]> {
  const latencies: number[] = [];
  for (const round of rounds) {
    await Promise.all(
      round.map(async (delivery) => {
        const start = performance.now();
        const res = await fetch(url, {
          method: "POST",
          headers: delivery.headers,
          body: delivery.body,
        });
        await res.text();
        if (res.status >= 300) throw new Error(`delivery answered ${res.status}`);
        latencies.push(performance.now() - start);
      }),
    );
  }
  return latencies.sort((a, b) => a - b);
}

const hooksYml = (count: number) =>
  "hooks:\n" +
  Array.from(
    { length: count },
    (_, i) => `  - name: h${i}\n    image: alpine:3\n    build: echo ${i}\n`,
  ).join("");

const key = generateAppKey();
const fake = await FakeGitHub.start({
  appPublicKey: key.publicKeyPem,
  appId: 71,
  enterprise: true,
  description: "ghes-3.17",
});
const dir = mkdtempSync(join(tmpdir(), "kozmic-webhook-bench-"));
let installation = 2000;
let repos = 0;
function repository(hooks: number): { target: TargetRepository; sha: string } {
  installation += 1;
  repos += 1;
  const fullName = `bench/hooks-${repos}`;
  const record = fake.addRepository({ fullName, installationId: installation });
  const sha = newSha();
  fake.addCommit(fullName, sha, { ".github/kozmic.yml": hooksYml(hooks) }, "main");
  return { target: { fullName, id: record.id, installationId: installation }, sha };
}

const children: ChildProcess[] = [];
try {
  const serve = await startServer(kozmicArgv(["serve"]), {
    APP_ID: String(fake.appId),
    PRIVATE_KEY: key.privateKeyPem,
    WEBHOOK_SECRET: SECRET,
    PORT: "0",
    HOST: "127.0.0.1",
    GHE_HOST: fake.host,
    GHE_PROTOCOL: "http",
    KOZMIC_PUBLIC_URL: "https://ci.example.com",
    KOZMIC_DATA_DIR: dir,
    KOZMIC_EMBEDDED_RUNNER: "false",
    LOG_LEVEL: "warn",
  });
  children.push(serve.child);
  const webhookUrl = `${serve.url}/api/github/webhooks`;

  // 1. Delivery to the last check run of a push of 20 hooks, the server otherwise idle.
  const big = repository(HOOKS);
  const started = performance.now();
  const [answer] = await measure(webhookUrl, [
    [signDelivery("push", pushPayload(big.target, { sha: big.sha }), SECRET)],
  ]);
  while (fake.checkRunsOf(big.target.fullName, big.sha).length < HOOKS) await sleep(20);
  const lastRun = performance.now() - started;

  const floorRepo = repository(0);
  const octokit = createInstallationOctokit(
    fake.appId,
    key.privateKeyPem,
    floorRepo.target.installationId,
    fake.url,
  );
  const [owner, repo] = floorRepo.target.fullName.split("/") as [string, string];
  await octokit.request("GET /repos/{owner}/{repo}", { owner, repo }); // token minted first
  const floorStart = performance.now();
  for (let i = 0; i < HOOKS; i++) {
    await octokit.request("POST /repos/{owner}/{repo}/check-runs", {
      owner,
      repo,
      name: `h${i}`,
      head_sha: floorRepo.sha,
      status: "queued",
    });
  }
  const floor = performance.now() - floorStart;

  // 2. Answer time under 50 concurrent pushes.
  const rounds = (count: number) =>
    Array.from({ length: count }, () =>
      Array.from({ length: CONCURRENCY }, () => {
        const { target, sha } = repository(2);
        return signDelivery("push", pushPayload(target, { sha }), SECRET);
      }),
    );
  await measure(webhookUrl, rounds(1));
  const app = await measure(webhookUrl, rounds(ROUNDS));

  const bare = await startServer(["-e", BARE_SERVER], {});
  children.push(bare.child);
  await measure(bare.url, rounds(1));
  const base = await measure(bare.url, rounds(ROUNDS));
  if (fake.violations.length > 0) throw new Error("the fake GitHub recorded violations");

  const row = (name: string, l: number[]) =>
    `${name.padEnd(40)} p50 ${percentile(l, 50).toFixed(1).padStart(7)} ms   p99 ${percentile(l, 99).toFixed(1).padStart(7)} ms`;
  console.log(`one push of ${HOOKS} hooks to kozmic serve (pacing on)`);
  console.log(`answered after                        ${answer!.toFixed(1).padStart(8)} ms`);
  console.log(`last check run created after          ${(lastRun / 1000).toFixed(2).padStart(8)} s`);
  console.log(
    `baseline: ${HOOKS} paced creates straight    ${(floor / 1000).toFixed(2).padStart(8)} s`,
  );
  console.log(`ratio delivery-to-last-run / baseline: x${(lastRun / floor).toFixed(2)}`);
  console.log(
    `\n${CONCURRENCY} concurrent signed pushes x ${ROUNDS} rounds (2 hooks each, pacing on)`,
  );
  console.log(row("kozmic serve (POST -> 202)", app));
  console.log(row("bare node:http process, same signature", base));
  console.log(
    `ratio serve / bare: p50 x${(percentile(app, 50) / percentile(base, 50)).toFixed(1)}, ` +
      `p99 x${(percentile(app, 99) / percentile(base, 99)).toFixed(1)}`,
  );
} finally {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
}
