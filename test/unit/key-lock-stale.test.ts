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
    // Each holder waits for the other to come in; one queue would never let it (a 5 s bound
    // then lets the first go, and the count shows it).
    const together = async (dirs: [string, string]) => {
      let inside = 0;
      let most = 0;
      let letGo!: () => void;
      const bothIn = new Promise<void>((resolve) => (letGo = resolve));
      const hold = async () => {
        inside += 1;
        most = Math.max(most, inside);
        if (inside === 2) letGo();
        const timer = setTimeout(letGo, 5_000);
        await bothIn;
        clearTimeout(timer);
        inside -= 1;
      };
      await Promise.all(dirs.map((dir) => withKeyLock(dir, "install-y", hold)));
      return most;
    };
    assert.equal(await together([a, b]), 2);
    assert.equal(await together([a, a]), 1, "under one data dir the same key still queues");
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
