import assert from "node:assert/strict";
import { it } from "node:test";
import { MAX_INPUT_CHARS, parseInputs } from "../../src/core/manual-inputs.js";

it("run inputs: NAME=value lines, values kept whole; hostile forms refused with a reason", () => {
  assert.deepEqual(parseInputs(" A=1\r\n\nB= spaced = kept \nC="), {
    A: "1",
    B: " spaced = kept ",
    C: "",
  });
  const many = Array.from({ length: 21 }, (_, i) => `V${i}=x`).join("\n");
  assert.equal(parseInputs(many), "At most 20 inputs.");
  assert.equal(
    parseInputs(`A=${"x".repeat(MAX_INPUT_CHARS + 1)}`),
    "Input A is longer than 4096 characters.",
  );
  assert.equal(parseInputs("A=1\nA=2"), "Input A is given twice.");
  assert.equal(
    parseInputs("KOZMIC_TOKEN=1"),
    "Input KOZMIC_TOKEN: KOZMIC_ names are Kozmic's own.",
  );
  assert.equal(
    parseInputs("ok=1\n$(rm -rf /)=1"),
    "Input line 2 is not NAME=value (NAME of letters, digits and _).",
  );
  assert.equal(parseInputs("__proto__=1"), "Input __proto__ is not a usable name.");
});
