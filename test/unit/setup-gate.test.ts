import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSetupGate, STATE_TTL_MS } from "../../src/setup/setup-gate.js";

describe("the set-up gate", () => {
  it("opens one session for the console's code, typed in any case and spacing, once", () => {
    const gate = createSetupGate();
    assert.match(gate.code, /^[A-Z2-9]{5}(-[A-Z2-9]{5}){3}$/);
    assert.equal(gate.unlock("AAAAA-AAAAA-AAAAA-AAAAA"), undefined);
    assert.equal(gate.unlock(""), undefined);
    const session = gate.unlock(` ${gate.code.toLowerCase().replace(/-/g, " ")} `);
    assert.ok(session);
    assert.equal(gate.isSession(session), true);
    assert.equal(gate.unlock(gate.code), undefined, "spent");
    assert.equal(gate.isSession(undefined), false);
    assert.equal(gate.isSession(`${session}x`), false);
  });

  it("takes a state once, only from the session it was given to, within 10 minutes", () => {
    let now = 1_000_000;
    const gate = createSetupGate(() => now);
    const session = gate.unlock(gate.code)!;
    const state = gate.newState(session);
    assert.equal(gate.takeState(state, undefined), false, "no session");
    assert.equal(gate.takeState(state, "another-session"), false, "another session");
    assert.equal(gate.takeState(state, session), true);
    assert.equal(gate.takeState(state, session), false, "replayed");

    const late = gate.newState(session);
    now += STATE_TTL_MS;
    assert.equal(gate.takeState(late, session), false, "expired");
    assert.equal(gate.takeState("0".repeat(40), session), false, "never given");
  });

  it("codes differ between servers", () => {
    assert.notEqual(createSetupGate().code, createSetupGate().code);
  });
});
