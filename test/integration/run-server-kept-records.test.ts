import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { KeptCacheRecords } from "../../src/cli/run-server/kept-cache-records.js";
import { openEmbeddedCacheRecords } from "../../src/store/embedded-cache-records.js";
import type { CacheImageRecord } from "../../src/store/port.js";

const scratch = mkdtempSync(join(tmpdir(), "kozmic-kept-records-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function record(imageId: string): CacheImageRecord {
  return {
    imageId,
    repositoryId: "local-1",
    hook: "hello",
    key: "k",
    scope: "trusted",
    createdAt: 1,
  };
}

it("a run server's cache records stay open between runs, and follow a data directory made again", async () => {
  const kept = new KeptCacheRecords();
  const dir = join(scratch, "data");
  const first = kept.open(dir);
  await first.recordCacheImage(record("sha256:a"));
  await first.close(); // a run's close keeps the file open
  const second = kept.open(dir);
  assert.equal((await second.getCacheImage("sha256:a"))?.imageId, "sha256:a");

  // Another process (a runner, `kozmic cache`) sees what the kept one wrote, and the reverse.
  const other = openEmbeddedCacheRecords(dir);
  assert.equal((await other.getCacheImage("sha256:a"))?.imageId, "sha256:a");
  await other.recordCacheImage(record("sha256:b"));
  await other.close();
  assert.equal((await second.getCacheImage("sha256:b"))?.imageId, "sha256:b");

  // The data directory removed and made again: the new file, not the removed one.
  rmSync(dir, { recursive: true, force: true });
  const third = kept.open(dir);
  assert.equal(await third.getCacheImage("sha256:a"), undefined);
  await third.recordCacheImage(record("sha256:c"));
  const reader = openEmbeddedCacheRecords(dir);
  assert.equal((await reader.getCacheImage("sha256:c"))?.imageId, "sha256:c");
  await reader.close();
  await kept.closeAll();
});
