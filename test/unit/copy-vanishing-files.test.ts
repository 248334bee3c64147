import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unlessVanished } from "../../runner/files/unless-vanished.js";
import { tarDirectory } from "../../runner/source/tar-directory.js";
import { fillWorkspace, makeWorkspace } from "../../runner/source/write-workspace.js";
import { readTar } from "../support/read-tar.js";

const FILES = 400;

/** A working tree of FILES small files in two directories, each holding its own name. */
function tree(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-vanishing-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const sub of ["a", "b"]) mkdirSync(join(dir, sub));
  for (let i = 0; i < FILES; i++) {
    const name = `${i % 2 ? "a" : "b"}/f${i}`;
    writeFileSync(join(dir, name), name);
  }
  return dir;
}

test("unlessVanished: a missing path gives undefined, any other error is thrown", async () => {
  assert.equal(await unlessVanished(readdir("/no/such/kozmic/dir")), undefined);
  await assert.rejects(unlessVanished(readdir("/proc/self/mem")), /ENOTDIR/);
});

test("a step's copy leaves out an entry gone by the time it is read, and copies the rest", async (t) => {
  // /proc/self/fd lists, among this process's descriptors, the one that reads the listing,
  // which is closed by the time the copy looks at it: an entry gone between its directory's
  // listing and its copy, every time.
  const root = mkdtempSync(join(tmpdir(), "kozmic-vanishing-steps-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const owner = { uid: process.getuid!(), gid: process.getgid!() };
  const made = await makeWorkspace(root, owner);
  await fillWorkspace(made, { sourceDir: "/proc/self/fd", ...owner, extra: [] });
  const copied = readdirSync(join(made, "src"));
  assert.ok(copied.includes("0") && copied.includes("1") && copied.includes("2"), copied.join());
  assert.equal(readlinkSync(join(made, "src", "0")), readlinkSync("/proc/self/fd/0"));
});

test("an archive of a working tree whose files go while it is packed: what is left is packed whole", async (t) => {
  const dir = tree(t);
  const tar = await tarDirectory(dir, { prefix: "kozmic", uid: 1000, gid: 1000 });
  // After the listing, before any file of it is read (nothing reads the archive yet).
  rmSync(join(dir, "b"), { recursive: true, force: true });
  const bodies = new Map(
    (await readTar(tar)).filter((e) => e.type === "file").map((e) => [e.name, e.body]),
  );
  const inA = [...bodies].filter(([name]) => name.startsWith("kozmic/src/a/"));
  assert.equal(inA.length, FILES / 2);
  for (const [name, body] of bodies) assert.equal(body, name.slice("kozmic/src/".length));
  assert.ok(![...bodies.keys()].some((name) => name.startsWith("kozmic/src/b/")), "b was gone");
});
