import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBytes, parseDurationSeconds } from "../../src/core/duration.js";

test("durations parse to seconds", () => {
  assert.equal(parseDurationSeconds("90s"), 90);
  assert.equal(parseDurationSeconds("15m"), 900);
  assert.equal(parseDurationSeconds("1h30m"), 5400);
  assert.equal(parseDurationSeconds("120"), 120);
  assert.equal(parseDurationSeconds(30), 30);
});

test("things that are not durations are refused", () => {
  for (const bad of ["", "m", "10 minutes", "-5s", "0", "1h 30m", "5d", 0, -1, Number.NaN]) {
    assert.equal(parseDurationSeconds(bad), undefined, String(bad));
  }
});

test("sizes parse to bytes", () => {
  assert.equal(parseBytes("512m"), 512 * 1024 ** 2);
  assert.equal(parseBytes("2g"), 2 * 1024 ** 3);
  assert.equal(parseBytes("2GiB"), 2 * 1024 ** 3);
  assert.equal(parseBytes(1024), 1024);
  assert.equal(parseBytes("lots"), undefined);
  assert.equal(parseBytes("0"), undefined);
});
