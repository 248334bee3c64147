import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ParsedCache } from "../../src/cli/parsed-cache.js";

function dataDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-parsed-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("an entry is read back by the same build, for the same kind and input only", (t) => {
  const dir = dataDir(t);
  const cache = new ParsedCache(dir, "build-a");
  cache.put("config", "hooks: []", { hooks: [{ name: "a" }] });
  assert.deepEqual(cache.get("config", "hooks: []"), { hooks: [{ name: "a" }] });
  assert.equal(cache.get("config", "hooks: [] "), undefined);
  assert.equal(cache.get("settings", "hooks: []"), undefined);
  assert.equal(new ParsedCache(dir, "build-b").get("config", "hooks: []"), undefined);
  const [name] = readdirSync(join(dir, "parsed"));
  assert.equal(statSync(join(dir, "parsed")).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, "parsed", name!)).mode & 0o777, 0o600);
  assert.doesNotMatch(name!, /hooks/, "named by a hash, not by the input");
});

test("a damaged or foreign entry is no entry, and the next put mends it", (t) => {
  const dir = dataDir(t);
  const cache = new ParsedCache(dir, "build");
  cache.put("config", "x", { hooks: [] });
  const [name] = readdirSync(join(dir, "parsed"));
  for (const text of ["{", "{}", "null", '"text"', ""]) {
    writeFileSync(join(dir, "parsed", name!), text);
    assert.equal(cache.get("config", "x"), undefined, JSON.stringify(text));
  }
  cache.put("config", "x", { hooks: [] });
  assert.deepEqual(cache.get("config", "x"), { hooks: [] });
});

test("a full directory starts over; one that cannot be written fails nothing", (t) => {
  const dir = dataDir(t);
  const cache = new ParsedCache(dir, "build");
  for (let i = 0; i < 200; i++) cache.put("config", String(i), i);
  assert.equal(readdirSync(join(dir, "parsed")).length, 200);
  cache.put("config", "one more", "kept");
  assert.deepEqual(readdirSync(join(dir, "parsed")).length, 1);
  assert.equal(cache.get("config", "one more"), "kept");

  const blocked = dataDir(t);
  writeFileSync(join(blocked, "parsed"), "a file where the directory would be");
  const unwritable = new ParsedCache(blocked, "build");
  assert.doesNotThrow(() => unwritable.put("config", "x", 1));
  assert.equal(unwritable.get("config", "x"), undefined);
});
