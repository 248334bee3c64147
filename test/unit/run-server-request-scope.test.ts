import assert from "node:assert/strict";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { enterRequest } from "../../src/cli/run-server/request-scope.js";

const scratch = realpathSync(mkdtempSync(join(tmpdir(), "kozmic-request-scope-")));
after(() => rmSync(scratch, { recursive: true, force: true }));

it("a served run sees the client's variables, directory, umask and output, and the server gets its own back", async () => {
  const own = { env: { ...process.env }, cwd: process.cwd(), umask: process.umask() };
  const sent: string[] = [];
  const restore = enterRequest(
    { argv: [], cwd: scratch, env: { ONLY_THIS: "1", PATH: "/bin" }, umask: 0o077 },
    {
      stdout: (bytes, done) => (sent.push(`out:${bytes.toString()}`), done()),
      stderr: (bytes, done) => (sent.push(`err:${bytes.toString()}`), done()),
    },
  );
  let flushed = false;
  try {
    assert.deepEqual({ ...process.env }, { ONLY_THIS: "1", PATH: "/bin" });
    assert.equal(process.cwd(), scratch);
    assert.equal(process.umask(), 0o077);
    console.log("to the client");
    process.stderr.write(Buffer.from("bytes"), () => (flushed = true));
    process.stdout.write("é", "latin1");
  } finally {
    restore();
  }
  assert.deepEqual(sent, ["out:to the client\n", "err:bytes", `out:${Buffer.from("é", "latin1")}`]);
  assert.equal(flushed, true, "a write's callback is called");
  assert.deepEqual({ ...process.env }, own.env);
  assert.equal(process.cwd(), own.cwd);
  assert.equal(process.umask(), own.umask);
});

it("a directory that cannot be entered changes nothing", () => {
  const own = { env: { ...process.env }, cwd: process.cwd(), write: process.stdout.write };
  assert.throws(
    () =>
      enterRequest(
        { argv: [], cwd: join(scratch, "gone"), env: {}, umask: 0 },
        { stdout: () => {}, stderr: () => {} },
      ),
    /ENOENT/,
  );
  assert.deepEqual({ ...process.env }, own.env);
  assert.equal(process.cwd(), own.cwd);
  assert.equal(process.stdout.write, own.write);
});
