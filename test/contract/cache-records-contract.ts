import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { CacheImageOperations } from "../../src/store/port.js";

/** What every keeper of cache records does: the Store adapters, and the records alone. */
export async function checkCacheRecords(records: CacheImageOperations): Promise<void> {
  const imageId = `sha256:${randomUUID().replace(/-/g, "").repeat(2)}`;
  const record = {
    imageId,
    repositoryId: "42",
    hook: "test",
    key: "k".repeat(64),
    scope: "trusted" as const,
    createdAt: 1_700_000_000_000,
  };
  assert.equal(await records.getCacheImage(imageId), undefined);
  await records.recordCacheImage(record);
  assert.deepEqual(await records.getCacheImage(imageId), record);
  await records.recordCacheImage({ ...record, digest: "sha256:abc" });
  assert.equal((await records.getCacheImage(imageId))?.digest, "sha256:abc");
  const other = imageId.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
  assert.equal(await records.getCacheImage(other), undefined);
}

/** The contract for an adapter that keeps cache records and nothing else. */
export function defineCacheRecordsContract(
  name: string,
  open: () => Promise<CacheImageOperations & { close(): Promise<void> }>,
): void {
  describe(`Cache records contract: ${name}`, () => {
    it("records the cache images Kozmic committed and knows no others", async () => {
      const records = await open();
      try {
        await checkCacheRecords(records);
      } finally {
        await records.close();
      }
    });
  });
}
