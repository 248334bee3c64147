import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { ConfigError } from "../../src/core/errors.js";
import { checkCron, dueTick, scheduleId } from "../../src/core/schedules.js";

const at = (iso: string) => Date.parse(iso);
const HOOK = "hooks:\n  - name: a\n    image: alpine:3\n    build: make\n";

describe("schedules: which tick is due, and what a cron may be", () => {
  it("fires a tick once it has come, and not again", () => {
    const last = at("2026-12-06T03:00:00Z");
    assert.equal(dueTick("0 3 * * *", last, at("2026-12-07T02:59:59Z")), undefined);
    assert.equal(
      dueTick("0 3 * * *", last, at("2026-12-07T03:00:00Z")),
      at("2026-12-07T03:00:00Z"),
    );
    assert.equal(
      dueTick("0 3 * * *", last, at("2026-12-07T03:00:40Z")),
      at("2026-12-07T03:00:00Z"),
    );
    const fired = at("2026-12-07T03:00:00Z");
    assert.equal(dueTick("0 3 * * *", fired, at("2026-12-07T03:00:40Z")), undefined);
  });

  it("a missed stretch gives its latest tick only: one build, not a burst", () => {
    const last = at("2026-11-01T00:00:00Z");
    assert.equal(
      dueTick("*/5 * * * *", last, at("2026-12-07T05:17:30Z")),
      at("2026-12-07T05:15:00Z"),
    );
    assert.equal(
      dueTick("0 3 * * 1", last, at("2026-12-07T05:17:30Z")),
      at("2026-12-07T03:00:00Z"),
    );
  });

  it("an entry added after today's tick waits for tomorrow's", () => {
    const added = at("2026-12-07T05:00:00Z");
    assert.equal(dueTick("0 3 * * *", added, at("2026-12-07T23:59:00Z")), undefined);
    assert.equal(
      dueTick("0 3 * * *", added, at("2026-12-08T03:00:01Z")),
      at("2026-12-08T03:00:00Z"),
    );
  });

  it("reads 5 fields in UTC; says what is wrong with anything else", () => {
    assert.equal(checkCron("0 3 * * *"), undefined);
    assert.equal(checkCron("*/15 9-17 * * 1-5"), undefined);
    assert.match(checkCron("0 3 * * * *")!, /5 fields.*has 6 parts/);
    assert.match(checkCron("61 * * * *")!, /minute: 61/);
    assert.match(checkCron("every day")!, /cron expression of 5 fields/);
    assert.equal(checkCron("0 0 30 2 *"), "this cron expression never fires");
  });

  it("names the line and column of a bad entry in kozmic.yml", () => {
    const text = `${HOOK}schedule:\n  - cron: "0 3 * * *"\n  - cron: "0 25 * * *"\n    branch: main\n  - cron: "0 1 * * *"\n    branch: "a b"\n    when: never\n`;
    const error = (() => {
      try {
        parseConfig(text);
      } catch (e) {
        return e as ConfigError;
      }
      assert.fail("the configuration was accepted");
    })();
    assert.ok(error instanceof ConfigError);
    const where = error.issues.map((i) => `${i.line}:${i.column ?? "?"} ${i.path.join(".")}`);
    assert.deepEqual(where.sort(), [
      "10:13 schedule.2.branch",
      "11:5 schedule.2.when",
      "7:11 schedule.1.cron",
    ]);
  });

  it("refuses too many entries and an overlong cron, naming where", () => {
    const many = Array.from({ length: 11 }, (_, i) => `  - cron: "${i} 3 * * *"\n`).join("");
    assert.throws(
      () => parseConfig(`${HOOK}schedule:\n${many}`),
      (e: ConfigError) =>
        e.issues.some((i) => i.path.join(".") === "schedule" && /10/.test(i.message)),
    );
    const long = `0 3 * * ${"1,".repeat(150)}1`;
    assert.throws(
      () => parseConfig(`${HOOK}schedule:\n  - cron: "${long}"\n`),
      (e: ConfigError) =>
        e.issues.some((i) => i.path.join(".") === "schedule.0.cron" && i.line === 6),
    );
  });

  it("keeps an entry's id across pushes, and tells entries apart", () => {
    assert.equal(scheduleId(1, "0 3 * * *", "main"), scheduleId(1, "0 3 * * *", "main"));
    assert.notEqual(scheduleId(1, "0 3 * * *", "main"), scheduleId(2, "0 3 * * *", "main"));
    assert.notEqual(scheduleId(1, "0 3 * * *", "main"), scheduleId(1, "0 3 * * *", "dev"));
    assert.deepEqual(parseConfig(`${HOOK}schedule:\n  - cron: "0 3 * * *"\n`).schedule, [
      { cron: "0 3 * * *" },
    ]);
  });
});
