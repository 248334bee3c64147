import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { InfrastructureError } from "../../src/core/errors.js";
import { readStoredLog } from "../../runner/logs/job-log.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { MAX_LOG_CHUNK_BYTES } from "../../src/store/store-rules.js";
import type { LogChunk, Store } from "../../src/store/port.js";
import { LogTail, teeLogSink } from "../../runner/logs/log-tail.js";
import { StoreLogWriter } from "../../runner/logs/store-log-writer.js";

describe("StoreLogWriter on the embedded store", () => {
  let dir: string;
  let store: Store;
  let n = 0;
  const newJob = () => `job-log-${++n}-${Date.now()}`;
  const readAll = async (jobId: string) => {
    const chunks: LogChunk[] = [];
    for (;;) {
      const page = await store.readLog(jobId, chunks.length, 1000);
      if (page.length === 0) return chunks;
      chunks.push(...page);
    }
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kozmic-log-writer-"));
    store = openEmbeddedStore({ dataDir: dir, logRetentionDays: 1 });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores output in numbered chunks within the size limit, characters intact", async () => {
    const jobId = newJob();
    const writer = new StoreLogWriter({ store, jobId });
    let expected = "";
    for (let i = 0; i < 3000; i++) {
      const line = `line ${i}: ünïcödé ✓ 🚀 ${"x".repeat(i % 97)}\n`;
      writer.write(line);
      expected += line;
    }
    await writer.flush();
    const chunks = await readAll(jobId);
    assert.ok(chunks.length > 3, `several chunks (${chunks.length})`);
    assert.deepEqual(
      chunks.map((c) => c.seq),
      chunks.map((_, i) => i),
    );
    for (const chunk of chunks) {
      assert.ok(Buffer.byteLength(chunk.data) <= MAX_LOG_CHUNK_BYTES);
      assert.ok(!chunk.data.includes("\uFFFD"), "no character split across chunks");
    }
    assert.equal(chunks.map((c) => c.data).join(""), expected);
  });

  it("cuts a chunk where a section starts: the seq it gives holds the output written after it", async () => {
    const jobId = newJob();
    const writer = new StoreLogWriter({ store, jobId, flushIntervalMs: 20 });
    assert.equal(await writer.cut(), 0, "nothing written yet: the first chunk");
    writer.write("==> preparing\n");
    writer.write("x".repeat(MAX_LOG_CHUNK_BYTES + 10) + "\n");
    const install = writer.cut();
    writer.write("==> install\n");
    const build = writer.cut();
    writer.write("==> build\nok\n");
    await writer.flush();
    const chunks = await readAll(jobId);
    const [installSeq, buildSeq] = [await install, await build];
    assert.equal(chunks[installSeq]!.data, "==> install\n");
    assert.equal(chunks[buildSeq]!.data, "==> build\nok\n");
    assert.equal(buildSeq, installSeq + 1);
    assert.ok(chunks.slice(0, installSeq).every((c) => !c.data.includes("install")));
  });

  it("stores output a second after it is written while it flows, without flush()", async (t) => {
    // The writer's own timer, driven by hand: what is stored is decided by the interval, not
    // by how fast this machine happens to be.
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const jobId = newJob();
    const appends: Promise<void>[] = [];
    const watched: Pick<Store, "appendLog"> = {
      appendLog(chunk) {
        const stored = store.appendLog(chunk);
        appends.push(stored);
        return stored;
      },
    };
    const writer = new StoreLogWriter({ store: watched, jobId });
    writer.write("first line\n");
    t.mock.timers.tick(999);
    assert.equal(appends.length, 0, "nothing stored before the second is up");
    t.mock.timers.tick(1);
    assert.equal(appends.length, 1, "stored when the second is up");
    await appends[0];
    assert.equal((await readAll(jobId)).map((c) => c.data).join(""), "first line\n");

    writer.write("second line\n");
    t.mock.timers.tick(999);
    assert.equal(appends.length, 1);
    t.mock.timers.tick(1);
    assert.equal(appends.length, 2, "later output is stored a second after it is written too");
    await appends[1];
    assert.deepEqual(
      (await readAll(jobId)).map((c) => c.data),
      ["first line\n", "second line\n"],
    );
    await writer.flush();
    assert.equal(appends.length, 2, "nothing left for flush()");
  });

  it("past the cap, writes one notice line and drops the rest; the writer goes on", async () => {
    const jobId = newJob();
    const writer = new StoreLogWriter({ store, jobId, capBytes: 100 * 1024 });
    const line = "y".repeat(1023) + "\n";
    for (let i = 0; i < 300; i++) writer.write(line);
    writer.write("after the cap\n");
    await writer.flush();
    const text = (await readAll(jobId)).map((c) => c.data).join("");
    assert.ok(text.startsWith(line.repeat(100)));
    assert.ok(text.endsWith("==> log truncated at 100 KB; the job goes on\n"), text.slice(-100));
    assert.equal(text.split("log truncated").length, 2, "one notice");
    assert.ok(!text.includes("after the cap"));
    assert.equal(writer.bytesDropped, 200 * 1024 + "after the cap\n".length);
  });

  it("one cap for all attempts of a job: a retry goes on after the log so far, within the cap", async () => {
    const jobId = newJob();
    const cap = 100 * 1024;
    const line = "z".repeat(1023) + "\n";
    const first = new StoreLogWriter({ store, jobId, capBytes: cap });
    for (let i = 0; i < 60; i++) first.write(line);
    await first.flush();

    const stored = await readStoredLog(store, jobId);
    assert.equal(stored.bytes, 60 * 1024);
    assert.equal(stored.nextSeq, (await readAll(jobId)).length);
    const retry = new StoreLogWriter({
      store,
      jobId,
      capBytes: cap,
      startSeq: stored.nextSeq,
      startBytes: stored.bytes,
    });
    for (let i = 0; i < 60; i++) retry.write(line);
    await retry.flush();
    const text = (await readAll(jobId)).map((c) => c.data).join("");
    assert.ok(text.startsWith(line.repeat(100)), "both attempts' output up to the cap, in order");
    assert.ok(text.endsWith("==> log truncated at 100 KB; the job goes on\n"));
    assert.equal(text.split("log truncated").length, 2, "one notice");

    // A third attempt after the cap stores nothing more.
    const after = await readStoredLog(store, jobId);
    const third = new StoreLogWriter({
      store,
      jobId,
      capBytes: cap,
      startSeq: after.nextSeq,
      startBytes: after.bytes,
    });
    third.write("attempt 3\n");
    await third.flush();
    assert.equal((await readAll(jobId)).map((c) => c.data).join(""), text);
  });

  it("retries transient store errors", async () => {
    const jobId = newJob();
    let failures = 0;
    const flaky: Pick<Store, "appendLog"> = {
      async appendLog(chunk) {
        if (failures < 3) {
          failures += 1;
          throw new Error("ProvisionedThroughputExceededException");
        }
        await store.appendLog(chunk);
      },
    };
    const writer = new StoreLogWriter({ store: flaky, jobId, retryBaseMs: 5 });
    writer.write("survives\n");
    await writer.flush();
    assert.equal(failures, 3);
    assert.equal((await readAll(jobId)).map((c) => c.data).join(""), "survives\n");
  });

  it("reports a store that stays down from flush(), keeping the output for later", async () => {
    const jobId = newJob();
    let down = true;
    const errors: unknown[] = [];
    const outage: Pick<Store, "appendLog"> = {
      async appendLog(chunk) {
        if (down) throw new Error("connect ECONNREFUSED");
        await store.appendLog(chunk);
      },
    };
    const writer = new StoreLogWriter({
      store: outage,
      jobId,
      attempts: 2,
      retryBaseMs: 1,
      onError: (e) => errors.push(e),
    });
    writer.write("kept\n");
    await assert.rejects(writer.flush(), (e: unknown) => {
      assert.ok(e instanceof InfrastructureError);
      assert.match(e.message, /could not store log chunk 0/);
      return true;
    });
    assert.ok(errors.length >= 1);
    down = false;
    await writer.flush();
    assert.equal((await readAll(jobId)).map((c) => c.data).join(""), "kept\n");
  });

  it("once revoked (another runner owns the log), drops unsent output and writes nothing more", async () => {
    const jobId = newJob();
    let owned = true;
    const writer = new StoreLogWriter({ store, jobId, confirm: async () => owned });
    writer.write("mine\n");
    await writer.flush();
    writer.write("written after the lease moved\n");
    owned = false;
    await writer.flush();
    writer.write("later still\n");
    await writer.flush();
    assert.ok(writer.isRevoked);
    assert.equal((await readAll(jobId)).map((c) => c.data).join(""), "mine\n");
  });

  it("keeps memory bounded while the store lags, saying how much was dropped", async () => {
    const jobId = newJob();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: Pick<Store, "appendLog"> = {
      async appendLog(chunk) {
        await gate;
        await store.appendLog(chunk);
      },
    };
    const maxBufferedBytes = 1024 * 1024;
    const writer = new StoreLogWriter({ store: slow, jobId, maxBufferedBytes });
    const block = "z".repeat(8191) + "\n";
    let peak = 0;
    for (let i = 0; i < 2560; i++) {
      writer.write(block);
      peak = Math.max(peak, writer.bytesBuffered);
    }
    writer.write("the last line\n");
    assert.ok(peak <= maxBufferedBytes + MAX_LOG_CHUNK_BYTES + 8192, `peak ${peak}`);
    release();
    await writer.flush();
    const text = (await readAll(jobId)).map((c) => c.data).join("");
    assert.match(text, /==> \d+ (MB|KB) of output dropped here: the log store could not keep up/);
    assert.ok(text.endsWith("the last line\n"));
    assert.ok(writer.bytesDropped > 10 * 1024 * 1024);
  });
});

describe("LogTail", () => {
  it("keeps the last characters and feeds a tee", async () => {
    const tail = new LogTail(10);
    const other = new LogTail(1000);
    const sink = teeLogSink(tail, other);
    for (let i = 0; i < 100; i++) sink.write(`${i % 10}`);
    await sink.flush();
    assert.equal(tail.text, "0123456789");
    assert.equal(other.text.length, 100);
    assert.equal(tail.revision, 100);
  });
});
