import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { ArtifactStore } from "../../src/store/artifact-port.js";
import { EmbeddedArtifacts } from "../../src/store/embedded-artifacts.js";
import { s3ArtifactsFrom } from "../../src/store/s3-artifacts.js";
import { MotoServer } from "../support/moto-server.js";

const body = (content: string) => Readable.from([Buffer.from(content)]);

/** What every artifact store does, whichever keeps the bytes. */
function contract(name: string, open: () => ArtifactStore) {
  describe(`${name} artifact store`, () => {
    it("keeps files by job and path, lists them by name with sizes, gives their bytes back", async () => {
      const store = open();
      await store.put("job-1", "dist/x-1.0-py3-none-any.whl", body("wheel bytes"), 11);
      await store.put("job-1", "coverage.xml", body("<coverage/>"), 11);
      // A job whose id starts like the other's shares nothing with it.
      await store.put("job-10", "coverage.xml", body("other"), 5);
      assert.deepEqual(await store.list("job-1"), [
        { name: "coverage.xml", size: 11 },
        { name: "dist/x-1.0-py3-none-any.whl", size: 11 },
      ]);
      const file = await store.get("job-1", "dist/x-1.0-py3-none-any.whl");
      assert.equal(file?.size, 11);
      assert.equal(await text(file!.body), "wheel bytes");
      assert.equal(await text((await store.get("job-10", "coverage.xml"))!.body), "other");
    });

    it("a name stored again is replaced", async () => {
      const store = open();
      await store.put("job-2", "a.txt", body("first"), 5);
      await store.put("job-2", "a.txt", body("second!"), 7);
      assert.deepEqual(await store.list("job-2"), [{ name: "a.txt", size: 7 }]);
      assert.equal(await text((await store.get("job-2", "a.txt"))!.body), "second!");
    });

    it("an unknown job or name is nothing; a hostile name is refused, never a file outside", async () => {
      const store = open();
      assert.deepEqual(await store.list("no-such-job"), []);
      assert.equal(await store.get("job-1", "missing.bin"), undefined);
      for (const hostile of ["../job-2/a.txt", "dist/../../x", "/etc/passwd", "a//b", "a\nb", ""]) {
        assert.equal(await store.get("job-1", hostile), undefined, hostile);
        await assert.rejects(store.put("job-3", hostile, body("x"), 1), /not an artifact name/);
      }
      for (const job of ["..", ".", "a/b", ""]) {
        assert.deepEqual(await store.list(job), [], job);
        assert.equal(await store.get(job, "a.txt"), undefined, job);
      }
      assert.deepEqual(await store.list("job-3"), []);
    });

    it("a body shorter than its size stores nothing", async () => {
      const store = open();
      await assert.rejects(store.put("job-4", "short.bin", body("abc"), 10));
      assert.deepEqual(await store.list("job-4"), []);
      assert.equal(await store.get("job-4", "short.bin"), undefined);
    });
  });
}

const dataDir = mkdtempSync(join(tmpdir(), "kozmic-artifact-stores-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));
contract("embedded", () => new EmbeddedArtifacts(dataDir));

let moto: MotoServer;
const bucket = "kozmic-artifacts-test";
before(async () => {
  moto = await MotoServer.start();
  const client = new S3Client({
    region: "us-east-1",
    endpoint: moto.url,
    forcePathStyle: true,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  process.env.AWS_ACCESS_KEY_ID ??= "test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "test";
});
after(() => moto?.stop());
contract("S3", () => s3ArtifactsFrom({ bucket, region: "us-east-1", endpoint: moto.url }));

describe("embedded artifact files", () => {
  it("are the owner's alone (0700 directories, 0600 files) and go when their retention has passed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kozmic-artifact-retention-"));
    try {
      const store = new EmbeddedArtifacts(dir);
      await store.put("old-job", "dist/old.whl", body("old"), 3);
      await store.put("new-job", "new.whl", body("new"), 3);
      assert.equal(statSync(join(dir, "artifacts/old-job/dist")).mode & 0o777, 0o700);
      assert.equal(statSync(join(dir, "artifacts/old-job/dist/old.whl")).mode & 0o777, 0o600);
      const day = 86_400;
      const longAgo = Date.now() / 1000 - 31 * day;
      utimesSync(join(dir, "artifacts/old-job"), longAgo, longAgo);
      assert.equal(await store.sweep(30), 1);
      assert.deepEqual(await store.list("old-job"), []);
      assert.deepEqual(await store.list("new-job"), [{ name: "new.whl", size: 3 }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
