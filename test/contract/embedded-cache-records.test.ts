import { after, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedCacheRecords } from "../../src/store/embedded-cache-records.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { defineCacheRecordsContract } from "./cache-records-contract.js";

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-cache-records-"));
  dirs.push(dir);
  return dir;
};

defineCacheRecordsContract("embedded, alone (SQLite)", async () =>
  openEmbeddedCacheRecords(newDir()),
);

it("the records alone and the whole store read and write the same records, in either order", async () => {
  const record = (n: number) => ({
    imageId: `sha256:${String(n).repeat(64).slice(0, 64)}`,
    repositoryId: "local-0123",
    hook: "test",
    key: "k".repeat(64),
    scope: "trusted" as const,
    createdAt: 1_700_000_000_000,
  });
  for (const aloneFirst of [true, false]) {
    const dir = newDir();
    const first = aloneFirst ? openEmbeddedCacheRecords(dir) : openEmbeddedStore({ dataDir: dir });
    await first.recordCacheImage(record(1));
    const second = aloneFirst
      ? openEmbeddedStore({ dataDir: dir, retention: false })
      : openEmbeddedCacheRecords(dir);
    assert.deepEqual(await second.getCacheImage(record(1).imageId), record(1));
    await second.recordCacheImage(record(2));
    assert.deepEqual(await first.getCacheImage(record(2).imageId), record(2));
    await first.close();
    await second.close();
  }
});
