import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tarDirectory } from "../../runner/source/tar-directory.js";
import { readTar } from "../support/read-tar.js";

async function list(dir: string) {
  const tar = await tarDirectory(dir, {
    prefix: "kozmic",
    uid: 1000,
    gid: 1000,
    extra: [{ path: "run.sh", content: "x", mode: 0o755 }],
  });
  return readTar(tar);
}

test("packs .git, files with modes, symlinks as symlinks, owned by the script user", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-tar-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, ".git"));
  writeFileSync(join(dir, ".git/HEAD"), "ref: refs/heads/main\n");
  writeFileSync(join(dir, "build.sh"), "echo hi\n");
  chmodSync(join(dir, "build.sh"), 0o755);
  symlinkSync("build.sh", join(dir, "link"));
  const entries = await list(dir);
  const byName = new Map(entries.map((e) => [e.name, e]));
  assert.equal(byName.get("kozmic/src/.git/HEAD")?.body, "ref: refs/heads/main\n");
  assert.equal(byName.get("kozmic/src/build.sh")?.mode, 0o755);
  assert.equal(byName.get("kozmic/src/link")?.type, "symlink");
  assert.equal(byName.get("kozmic/src/link")?.linkname, "build.sh");
  assert.equal(byName.get("kozmic/run.sh")?.body, "x");
  assert.ok(entries.every((e) => e.uid === 1000));
});

test("a FIFO in the tree is refused with its path", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-tar-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync("mkfifo", [join(dir, "pipe")]);
  await assert.rejects(list(dir), /cannot pack pipe: not a regular file/);
});
