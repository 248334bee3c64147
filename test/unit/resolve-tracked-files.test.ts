import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { resolveTrackedFiles } from "../../runner/source/resolve-tracked-files.js";
import { ConfigError } from "../../src/core/errors.js";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

async function withTree(
  files: Record<string, string>,
  run: (root: string, outside: string) => Promise<void>,
): Promise<void> {
  const base = await mkdtemp(path.join(tmpdir(), "kozmic-tracked-"));
  try {
    const root = path.join(base, "repo");
    const outside = path.join(base, "outside");
    await mkdir(root);
    await mkdir(outside);
    await writeFile(path.join(outside, "secret"), "s3cret");
    for (const [name, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await writeFile(path.join(root, name), content);
    }
    await run(root, outside);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

test("a literal file is digested by content", async () => {
  await withTree({ "requirements.txt": "flask==3\n" }, async (root) => {
    assert.deepEqual(await resolveTrackedFiles(root, ["requirements.txt"]), [
      { path: "requirements.txt", digest: sha("flask==3\n") },
    ]);
    assert.deepEqual(await resolveTrackedFiles(root, ["./requirements.txt"]), [
      { path: "requirements.txt", digest: sha("flask==3\n") },
    ]);
  });
});

test("a file bigger than a stream chunk digests the same as a whole-buffer hash", async () => {
  const big = "x".repeat(3 * 1024 * 1024 + 7);
  await withTree({ "big.bin": big }, async (root) => {
    assert.deepEqual(await resolveTrackedFiles(root, ["big.bin"]), [
      { path: "big.bin", digest: sha(big) },
    ]);
  });
});

test("globs expand relative to the root, sorted and de-duplicated", async () => {
  await withTree(
    { "b/req.txt": "b", "a/req.txt": "a", "a/skip.md": "m", ".hidden/req.txt": "h" },
    async (root) => {
      assert.deepEqual(await resolveTrackedFiles(root, ["**/*.txt", "a/req.txt"]), [
        { path: ".hidden/req.txt", digest: sha("h") },
        { path: "a/req.txt", digest: sha("a") },
        { path: "b/req.txt", digest: sha("b") },
      ]);
    },
  );
});

test("missing literal paths and globs matching nothing are marked missing", async () => {
  await withTree({ "a.txt": "a" }, async (root) => {
    assert.deepEqual(await resolveTrackedFiles(root, ["nope.lock", "*.json", "a.txt"]), [
      { path: "*.json", digest: "missing" },
      { path: "a.txt", digest: sha("a") },
      { path: "nope.lock", digest: "missing" },
    ]);
  });
});

test("a directory is digested by its contents, recursively", async () => {
  await withTree({ "deps/a.txt": "1", "deps/nested/b.txt": "2" }, async (root) => {
    const [before] = await resolveTrackedFiles(root, ["deps"]);
    assert.equal(before?.path, "deps");
    assert.match(before?.digest ?? "", /^[0-9a-f]{64}$/);
    assert.deepEqual(await resolveTrackedFiles(root, ["deps/"]), [before]);

    await writeFile(path.join(root, "deps/nested/b.txt"), "3");
    const [changed] = await resolveTrackedFiles(root, ["deps"]);
    assert.notEqual(changed?.digest, before?.digest);

    await writeFile(path.join(root, "deps/nested/b.txt"), "2");
    assert.deepEqual(await resolveTrackedFiles(root, ["deps"]), [before]);

    await writeFile(path.join(root, "deps/nested/c.txt"), "");
    const [added] = await resolveTrackedFiles(root, ["deps"]);
    assert.notEqual(added?.digest, before?.digest);
  });
});

test("a symlink inside a directory counts as its target text, never followed", async () => {
  await withTree({ "deps/a.txt": "1" }, async (root, outside) => {
    await symlink(path.join(outside, "secret"), path.join(root, "deps/link"));
    const [first] = await resolveTrackedFiles(root, ["deps"]);
    await writeFile(path.join(outside, "secret"), "changed");
    assert.deepEqual(await resolveTrackedFiles(root, ["deps"]), [first]);
  });
});

test("a symlink escaping the root is refused, as a literal path and through a glob", async () => {
  await withTree({ "a.txt": "a" }, async (root, outside) => {
    await symlink(path.join(outside, "secret"), path.join(root, "escape.txt"));
    await symlink(outside, path.join(root, "escape-dir"));
    const patterns = ["escape.txt", "*.txt", "escape-dir", "escape-dir/secret", "escape-*", "*/"];
    for (const pattern of patterns.slice(0, 5)) {
      await assert.rejects(
        resolveTrackedFiles(root, [pattern]),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, String(error));
          assert.match(error.message, /outside the repository/);
          assert.doesNotMatch(error.message, /s3cret/);
          return true;
        },
        pattern,
      );
    }
    // A glob never walks into a symlinked directory, so it cannot even list what is outside.
    assert.deepEqual(await resolveTrackedFiles(root, ["escape-dir/*", "*/"]), [
      { path: "*/", digest: "missing" },
      { path: "escape-dir/*", digest: "missing" },
    ]);
  });
});

test("a symlink loop is refused, not followed forever", async () => {
  await withTree({}, async (root) => {
    await symlink("loop-b", path.join(root, "loop-a"));
    await symlink("loop-a", path.join(root, "loop-b"));
    await assert.rejects(resolveTrackedFiles(root, ["loop-a"]), /"loop-a" is a symlink loop/);
    await assert.rejects(resolveTrackedFiles(root, ["loop-*"]), /is a symlink loop/);
  });
});

test("a symlink inside the root is followed", async () => {
  await withTree({ "real/lock.json": "{}" }, async (root) => {
    await symlink("real/lock.json", path.join(root, "lock.json"));
    assert.deepEqual(await resolveTrackedFiles(root, ["lock.json"]), [
      { path: "lock.json", digest: sha("{}") },
    ]);
    assert.deepEqual(await resolveTrackedFiles(root, ["*.json"]), [
      { path: "lock.json", digest: sha("{}") },
    ]);
    assert.deepEqual(await resolveTrackedFiles(root, ["*/"]), [
      { path: "real", digest: (await resolveTrackedFiles(root, ["real"]))[0]?.digest },
    ]);
  });
});

test(".git is never matched nor looked into", async () => {
  await withTree({ ".git/config": "x", "sub/.git/HEAD": "y", "a.txt": "a" }, async (root) => {
    assert.deepEqual(await resolveTrackedFiles(root, ["**/*"]), [
      { path: "a.txt", digest: sha("a") },
    ]);
    const [withGit] = await resolveTrackedFiles(root, ["."]);
    await writeFile(path.join(root, ".git/config"), "changed");
    assert.deepEqual(await resolveTrackedFiles(root, ["."]), [withGit]);
    await assert.rejects(resolveTrackedFiles(root, [".git/config"]), /must not point into \.git/);
  });
});

test("hostile patterns are refused before touching the disk", async () => {
  await withTree({}, async (root) => {
    for (const pattern of ["/etc/passwd", "../outside/secret", "a/../../x", "~/x", "a\\b", ""]) {
      await assert.rejects(resolveTrackedFiles(root, [pattern]), ConfigError, pattern);
    }
  });
});
