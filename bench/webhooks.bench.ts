// Webhook handling latency of the app's Node server: a signed push POSTed until the answer
// (the handler answers only after its queue messages are sent, so this is POST -> message
// sent), with 50 deliveries in flight at once against the fake GitHub, embedded queue and
// store. Baseline: a bare node:http server that reads the same POST, checks its signature
// and answers 200, measured in this process the same way.
//   npx tsx bench/webhooks.bench.ts
// Octokit's pacing of writes (one second apart, as GitHub asks) is off here as in the
// tests; with it on, a burst of deliveries of one installation is paced by GitHub's rule.
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { AppHarness } from "../test/support/app-harness.js";
import { pushPayload, signDelivery, type Delivery } from "../test/support/webhooks.js";

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const ROUNDS = 6;

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
        if (res.status !== 200) throw new Error(`delivery answered ${res.status}`);
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
      res.writeHead(ok ? 200 : 400).end(ok ? "ok\n" : "bad signature\n");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/github/webhooks`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const h = await AppHarness.start();
try {
  const rounds = (warmup: boolean) =>
    Array.from({ length: warmup ? 1 : ROUNDS }, () =>
      Array.from({ length: CONCURRENCY }, () => {
        const { target, sha } = h.repository();
        return signDelivery("push", pushPayload(target, { sha }), h.app.secret);
      }),
    );
  await measure(h.app.webhookUrl, rounds(true));
  await h.drain();
  const app = await measure(h.app.webhookUrl, rounds(false));
  const messages = (await h.drain()).length;
  if (messages !== 2 * CONCURRENCY * ROUNDS) throw new Error(`${messages} messages queued`);
  if (h.fake.violations.length > 0) throw new Error("the fake GitHub recorded violations");

  const bare = await bareServer(h.app.secret);
  await measure(bare.url, rounds(true));
  const base = await measure(bare.url, rounds(false));
  await bare.close();

  const row = (name: string, l: number[]) =>
    `${name.padEnd(34)} p50 ${percentile(l, 50).toFixed(1).padStart(7)} ms   p99 ${percentile(l, 99).toFixed(1).padStart(7)} ms`;
  console.log(`${CONCURRENCY} concurrent deliveries x ${ROUNDS} rounds (push, 2 hooks each)`);
  console.log(row("kozmic app (POST -> messages sent)", app));
  console.log(row("bare node:http (POST -> 200)", base));
  console.log(
    `ratio app / bare: p50 x${(percentile(app, 50) / percentile(base, 50)).toFixed(1)}, ` +
      `p99 x${(percentile(app, 99) / percentile(base, 99)).toFixed(1)}`,
  );
} finally {
  await h.stop();
}
