import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { markMirrorUsed, pruneMirrors } from "../../runner/source/prune-mirrors.js";
import { withKeyLock } from "../../runner/pipeline/key-lock.js";

const DAY = 24 * 3600_000;

describe("pruning git mirrors", () => {
  let dataDir: string;
  const now = Date.now();
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "kozmic-mirrors-"));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  function mirror(id: string, usedDaysAgo: number | undefined): string {
    const path = join(dataDir, "mirrors", `${id}.git`);
    mkdirSync(join(dataDir, "mirrors"), { recursive: true });
    execFileSync("git", ["init", "--quiet", "--bare", path]);
    const at = new Date(now - (usedDaysAgo ?? 30) * DAY);
    if (usedDaysAgo !== undefined) {
      writeFileSync(join(path, "kozmic-last-used"), "");
      utimesSync(join(path, "kozmic-last-used"), at, at);
    } else {
      utimesSync(path, at, at); // a mirror from before the marker: its directory's time
    }
    return path;
  }

  it("removes mirrors unused past the age, keeps the rest and anything that is not a mirror", async () => {
    const stale = mirror("101", 20);
    const fresh = mirror("102", 2);
    const unmarked = mirror("103", undefined);
    const other = join(dataDir, "mirrors", "notes.txt");
    writeFileSync(other, "not a mirror");

    const removed = await pruneMirrors(dataDir, 14 * DAY, now);
    assert.deepEqual(removed.sort(), ["101", "103"]);
    assert.equal(existsSync(stale), false);
    assert.equal(existsSync(unmarked), false);
    assert.equal(existsSync(fresh), true);
    assert.equal(existsSync(other), true);
  });

  it("keeps a mirror a job used while the prune waited for its lock", async () => {
    const path = mirror("201", 20);
    let pruned: Promise<string[]> | undefined;
    await withKeyLock(dataDir, "mirror-201", async () => {
      pruned = pruneMirrors(dataDir, 14 * DAY);
      // The job holding the lock fetches into the mirror and marks it used.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await markMirrorUsed(path);
    });
    assert.deepEqual(await pruned, []);
    assert.equal(existsSync(path), true);
  });

  it("has nothing to do on a host without mirrors", async () => {
    const empty = mkdtempSync(join(tmpdir(), "kozmic-no-mirrors-"));
    try {
      assert.deepEqual(await pruneMirrors(empty, DAY), []);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
