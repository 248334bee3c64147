import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeEngine } from "../support/fake-engine.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  diskHasRoom,
  engineAnswers,
  HostHealth,
  minFreeBytes,
  nameFullDisk,
} from "../../runner/worker/host-health.js";

describe("host health", () => {
  it("an engine that does not answer holds the runner until it does, said once each way", async () => {
    const engine = new FakeEngine();
    engine.up = false;
    const lines: string[] = [];
    const health = new HostHealth([engineAnswers(engine)], (line) => lines.push(line), 10);
    const fit = health.whenFit(new AbortController().signal);
    let done = false;
    void fit.then(() => (done = true));
    while (lines.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(done, false);
    assert.equal(health.problem, "the fake engine is down");
    engine.up = true;
    await fit;
    assert.equal(health.problem, undefined);
    assert.deepEqual(lines, [
      "not taking jobs: the fake engine is down",
      "taking jobs again (the fake engine is down: no more)",
    ]);
  });

  it("a stop while unfit ends the wait", async () => {
    const engine = new FakeEngine();
    engine.up = false;
    const stop = new AbortController();
    const health = new HostHealth([engineAnswers(engine)], () => {}, 60_000);
    const fit = health.whenFit(stop.signal);
    stop.abort();
    await fit;
    assert.equal(health.problem, "the fake engine is down");
  });

  it("a disk is full under 5% free, at most 1 GiB asked", () => {
    assert.equal(minFreeBytes(64 * 1024 ** 2), 0.05 * 64 * 1024 ** 2);
    assert.equal(minFreeBytes(1024 ** 4), 1024 ** 3);
  });

  it("a data directory not made yet is judged by the disk it will be on", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "kozmic-health-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // The runner makes its data directory when the first job needs it: a fresh host with
    // room takes jobs (a missing directory once held every runner of a fresh host back).
    assert.equal(await diskHasRoom(join(dir, "not", "made", "yet"))(), undefined);
    writeFileSync(join(dir, "a-file"), "");
    await assert.rejects(diskHasRoom(join(dir, "a-file", "under"))(), /ENOTDIR/);
  });

  it("an ENOSPC error names the disk; other errors are left as they are", () => {
    assert.equal(
      nameFullDisk("git fetch: fatal: write error: No space left on device", "/data"),
      "a disk of this host is full (the data directory is /data): git fetch: fatal: write error: No space left on device",
    );
    assert.equal(nameFullDisk("connection refused", "/data"), "connection refused");
    assert.match(
      nameFullDisk("ENOSPC: no space left on device, write", "/data"),
      /^a disk of this host is full/,
    );
    assert.match(nameFullDisk("spawn git ENOSPC", "/data"), /^a disk of this host is full/);
    // A repository named like the code is not a full disk.
    const notFound =
      "git fetch from 127.0.0.1:4000/acme/enospc-fix.git failed: fatal: repository 'http://127.0.0.1:4000/acme/enospc-fix.git/' not found";
    assert.equal(nameFullDisk(notFound, "/data"), notFound);
  });
});
