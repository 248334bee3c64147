// The webhook path as GitHub meets it, with production settings (Octokit's write pacing
// on: one write a second per installation), against the fake GitHub, embedded queue and
// store, in this one process:
//   1. Answer time of 50 concurrent signed pushes (each of another repository and
//      installation, 2 hooks each), POST to answer, p50 and p99. Baseline: a bare node:http
//      server that reads the same POST, checks its signature and answers, measured the same
//      way. The planner works behind the answers meanwhile, as in production.
//   2. Delivery to the last check run created, for one push of 20 hooks. Baseline: the
//      floor pacing sets, the same 20 check runs created straight through a paced Octokit of
//      the same installation.
//   npx tsx bench/webhooks.bench.ts
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInstallationOctokit } from "../src/checks/create-installation-octokit.js";
import { AppHarness, newSha } from "../test/support/app-harness.js";
import { pushPayload, signDelivery, type Delivery } from "../test/support/webhooks.js";

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const ROUNDS = 4;
const HOOKS = 20;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
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

async function bareServer(secret: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const expected = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
      const ok = req.headers["x-hub-signature-256"] === expected;
      JSON.parse(body.toString("utf8"));
      res.writeHead(ok ? 202 : 401).end(ok ? "ok\n" : "bad signature\n");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/github/webhooks`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const hooksYml = (count: number) =>
  "hooks:\n" +
  Array.from(
    { length: count },
    (_, i) => `  - name: h${i}\n    image: alpine:3\n    build: echo ${i}\n`,
  ).join("");

const h = await AppHarness.start({ paceWrites: true });
let installation = 1000;
try {
  // 1. Answer time.
  const rounds = (count: number) =>
    Array.from({ length: count }, () =>
      Array.from({ length: CONCURRENCY }, () => {
        const { target, sha } = h.repository(undefined, { installationId: ++installation });
        return signDelivery("push", pushPayload(target, { sha }), h.app.secret);
      }),
    );
  await measure(h.app.webhookUrl, rounds(1));
  const app = await measure(h.app.webhookUrl, rounds(ROUNDS));
  await h.app.idle();
  const messages = (await h.drain()).length;
  if (messages !== 2 * CONCURRENCY * (ROUNDS + 1)) throw new Error(`${messages} messages queued`);

  const bare = await bareServer(h.app.secret);
  await measure(bare.url, rounds(1));
  const base = await measure(bare.url, rounds(ROUNDS));
  await bare.close();

  const row = (name: string, l: number[]) =>
    `${name.padEnd(36)} p50 ${percentile(l, 50).toFixed(1).padStart(7)} ms   p99 ${percentile(l, 99).toFixed(1).padStart(7)} ms`;
  console.log(
    `${CONCURRENCY} concurrent signed pushes x ${ROUNDS} rounds (2 hooks each, pacing on)`,
  );
  console.log(row("kozmic app (POST -> 202)", app));
  console.log(row("bare node:http, same signature check", base));
  console.log(
    `ratio app / bare: p50 x${(percentile(app, 50) / percentile(base, 50)).toFixed(1)}, ` +
      `p99 x${(percentile(app, 99) / percentile(base, 99)).toFixed(1)}`,
  );

  // 2. Delivery to the last check run, 20 hooks.
  const { target } = h.repository(undefined, { installationId: ++installation });
  const sha = newSha();
  h.fake.addCommit(target.fullName, sha, { ".github/kozmic.yml": hooksYml(HOOKS) }, "main");
  const started = performance.now();
  const res = await fetch(h.app.webhookUrl, {
    method: "POST",
    ...(({ headers, body }) => ({ headers, body }))(
      signDelivery("push", pushPayload(target, { sha }), h.app.secret),
    ),
  });
  const answered = performance.now() - started;
  if (res.status !== 202) throw new Error(`delivery answered ${res.status}`);
  while (h.fake.checkRunsOf(target.fullName, sha).length < HOOKS) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const lastRun = performance.now() - started;
  await h.app.idle();
  await h.drain();

  const floorRepo = h.repository(undefined, { installationId: ++installation });
  const octokit = createInstallationOctokit(
    h.fake.appId,
    h.appKey.privateKeyPem,
    floorRepo.target.installationId,
    h.fake.url,
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
  if (h.fake.violations.length > 0) throw new Error("the fake GitHub recorded violations");

  console.log(`\none push of ${HOOKS} hooks (pacing on)`);
  console.log(`answered after                        ${answered.toFixed(1).padStart(8)} ms`);
  console.log(`last check run created after          ${(lastRun / 1000).toFixed(2).padStart(8)} s`);
  console.log(
    `baseline: ${HOOKS} paced creates straight    ${(floor / 1000).toFixed(2).padStart(8)} s`,
  );
  console.log(`ratio delivery-to-last-run / baseline: x${(lastRun / floor).toFixed(2)}`);
} finally {
  await h.stop();
}
