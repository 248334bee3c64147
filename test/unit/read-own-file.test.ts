import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readOwnFile } from "../../runner/files/read-own-file.js";

test("a file a container may have touched is read only when it is a small regular file", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-read-own-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "passwd"), "root:x:0:0::/root:/bin/sh\n");
  assert.equal(await readOwnFile(join(dir, "passwd"), 1024), "root:x:0:0::/root:/bin/sh\n");
  assert.equal(await readOwnFile(join(dir, "absent"), 1024), undefined);
  assert.equal(await readOwnFile(join(dir, "passwd"), 10), undefined, "larger than allowed");
  symlinkSync("/etc/hostname", join(dir, "link"));
  assert.equal(await readOwnFile(join(dir, "link"), 1024), undefined, "never through a symlink");
  execFileSync("mkfifo", [join(dir, "fifo")]);
  assert.equal(await readOwnFile(join(dir, "fifo"), 1024), undefined, "a FIFO, without blocking");
  assert.equal(await readOwnFile(dir, 1024), undefined, "a directory");
});
