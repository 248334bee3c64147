import { it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";

const writer = fileURLToPath(new URL("../support/crash-writer.ts", import.meta.url));

/** Runs the writer until it has acknowledged `atLeast` writes, then SIGKILLs it. */
async function killMidWrite(dataDir: string, atLeast: number): Promise<string[]> {
  const child = spawn(process.execPath, ["--import", "tsx", writer, dataDir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: string[] = [];
  let partial = "";
  await new Promise<void>((resolve, reject) => {
    child.on("exit", (code, signal) =>
      signal === "SIGKILL" ? resolve() : reject(new Error(`writer exited early: ${code}`)),
    );
    child.stdout.on("data", (data: Buffer) => {
      const text = partial + data.toString();
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      lines.push(...parts);
      if (lines.length >= atLeast) child.kill("SIGKILL");
    });
  });
  return lines;
}

it("keeps every acknowledged write of a SIGKILLed process, and nothing half-written", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kozmic-crash-"));
  try {
    const acked = await killMidWrite(dataDir, 400);
    const count = (kind: string) => acked.filter((l) => l.startsWith(`${kind} `)).length;
    assert.ok(count("running") >= 50, "the writer got going before it was killed");

    const db = new Database(join(dataDir, "kozmic.db"));
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
    db.close();

    const store = openEmbeddedStore({ dataDir });
    const queue = openEmbeddedQueue({ dataDir, name: "crash" });
    try {
      const received = new Set<string>();
      for (;;) {
        const batch = await queue.receive({ maxMessages: 10, visibilitySeconds: 60 });
        if (batch.length === 0) break;
        for (const r of batch) received.add(r.body.jobId);
      }
      for (let i = 0; i < count("sent"); i++) assert.ok(received.has(`job-${i}`), `message ${i}`);

      const chunks = await store.readLog("crash-job", 0, 100_000);
      assert.ok(chunks.length >= count("log"));
      chunks.forEach((chunk, i) => {
        assert.equal(chunk.seq, i, "no gap");
        assert.equal(chunk.data, String(i % 10).repeat(4096), `chunk ${i} whole`);
      });

      for (let i = 0; ; i++) {
        const jobs = await store.listJobs(`build-${i}`);
        const build = await store.getBuild(`build-${i}`);
        if (!build) {
          assert.equal(jobs.length, 0, "no jobs without their build");
          assert.ok(i >= count("build"), `acknowledged build ${i} is missing`);
          break;
        }
        assert.equal(jobs.length, 2, `build ${i} has both jobs`);
        const a = jobs.find((j) => j.id === `job-${i}-a`);
        if (i < count("running")) assert.equal(a?.status, "running", `job ${i} transition kept`);
        if (a?.status === "running") assert.equal(a.phase, "building", "transition whole");
      }
    } finally {
      await queue.close();
      await store.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
