import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isLockStale, withKeyLock } from "../../runner/pipeline/key-lock.js";

const BOOT = "3c6f0f2e-0000-4000-8000-000000000001";

test("a lock held by a live process of this boot is kept", () => {
  assert.equal(isLockStale(`${process.pid} ${BOOT}`, BOOT), false);
  assert.equal(isLockStale(`${process.pid}`, BOOT), false, "a bare pid from an older Kozmic");
});

test("a lock from before a reboot is stale even when its pid is alive again", () => {
  assert.equal(isLockStale(`${process.pid} another-boot`, BOOT), true);
});

test("a lock whose process is gone is stale; one still being written is not", () => {
  assert.equal(isLockStale(`999999999 ${BOOT}`, BOOT), true);
  assert.equal(isLockStale("", BOOT), false);
});

test("withKeyLock takes over a lock file left by a previous boot", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-lock-"));
  try {
    mkdirSync(join(dir, "locks"));
    const file = join(dir, "locks", "install-x.lock");
    writeFileSync(file, `${process.pid} a-boot-before-the-reboot`);
    let held = "";
    await withKeyLock(dir, "install-x", async () => {
      held = readFileSync(file, "utf8");
    });
    assert.match(held, new RegExp(`^${process.pid} `));
    assert.doesNotMatch(held, /a-boot-before-the-reboot/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("one key under two data dirs (two runners in one process) is two locks, not one queue", async () => {
  const a = mkdtempSync(join(tmpdir(), "kozmic-lock-a-"));
  const b = mkdtempSync(join(tmpdir(), "kozmic-lock-b-"));
  try {
    let inside = 0;
    let together = 0;
    const hold = () =>
      new Promise<void>((resolve) => {
        inside += 1;
        together = Math.max(together, inside);
        setImmediate(() => {
          inside -= 1;
          resolve();
        });
      });
    await Promise.all([withKeyLock(a, "install-y", hold), withKeyLock(b, "install-y", hold)]);
    assert.equal(together, 2);
    // Under one data dir the same key still queues.
    together = 0;
    await Promise.all([withKeyLock(a, "install-y", hold), withKeyLock(a, "install-y", hold)]);
    assert.equal(together, 1);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
