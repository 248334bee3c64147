import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RENAMED_VARIABLES, withRenamedVariables } from "../../src/settings/renamed-variables.js";
import { readSettings } from "../../src/settings/read-settings.js";

const RENAMED = {
  KOZMIC_CONCURRENCY: { renamedTo: "KOZMIC_RUNNER_CONCURRENCY", since: "9.9" },
  KOZMIC_GONE: { removed: "use KOZMIC_OTHER instead", since: "9.8" },
};

describe("variables a release renamed or removed", () => {
  it("a renamed variable's value is read under its new name, with a notice to rename it", () => {
    const { env, notices } = withRenamedVariables({ KOZMIC_CONCURRENCY: "3" }, RENAMED);
    assert.equal(env.KOZMIC_RUNNER_CONCURRENCY, "3");
    assert.deepEqual(notices, [
      "KOZMIC_CONCURRENCY is now KOZMIC_RUNNER_CONCURRENCY (since 9.9): its value was used; rename it where it is set",
    ]);
  });

  it("the new name wins when both are set; the old one is named for removal", () => {
    const { env, notices } = withRenamedVariables(
      { KOZMIC_CONCURRENCY: "3", KOZMIC_RUNNER_CONCURRENCY: "5" },
      RENAMED,
    );
    assert.equal(env.KOZMIC_RUNNER_CONCURRENCY, "5");
    assert.match(notices[0]!, /KOZMIC_CONCURRENCY is no longer read .*KOZMIC_RUNNER_CONCURRENCY/);
  });

  it("a removed variable gets a notice saying what replaces it; unset or blank ones none", () => {
    assert.deepEqual(withRenamedVariables({ KOZMIC_GONE: "x" }, RENAMED).notices, [
      "KOZMIC_GONE is no longer read (since 9.8): use KOZMIC_OTHER instead",
    ]);
    assert.deepEqual(withRenamedVariables({ KOZMIC_GONE: " ", PATH: "/bin" }, RENAMED).notices, []);
  });

  it("the table is applied by the settings reader, and names no variable twice", () => {
    // The retired run server's variables: set, they stop nothing and are named.
    const env = { KOZMIC_RUN_SERVER: "off", KOZMIC_RUN_SERVER_IDLE: "10m" };
    assert.deepEqual(
      withRenamedVariables(env).notices.map((n) => n.split(" ")[0]),
      ["KOZMIC_RUN_SERVER", "KOZMIC_RUN_SERVER_IDLE"],
    );
    assert.doesNotThrow(() => readSettings(env, ["pipeline"]));
    for (const change of Object.values(RENAMED_VARIABLES)) {
      if ("renamedTo" in change) assert.ok(!(change.renamedTo in RENAMED_VARIABLES), "no chains");
    }
  });
});
