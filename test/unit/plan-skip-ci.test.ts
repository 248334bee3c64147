import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { shouldSkipCi } from "../../src/core/skip-ci.js";

describe("shouldSkipCi", () => {
  it("skips on [skip ci] or [ci skip] anywhere, in any letter case", () => {
    assert.equal(shouldSkipCi(["Fix typo [skip ci]"]), true);
    assert.equal(shouldSkipCi(["[CI SKIP] docs only"]), true);
    assert.equal(shouldSkipCi([undefined, "Title", "body\n\n[skip ci]"]), true);
    assert.equal(shouldSkipCi([null, "PR title [ci skip]"]), true);
  });
  it("builds otherwise, including near misses", () => {
    assert.equal(shouldSkipCi(["skip ci"]), false);
    assert.equal(shouldSkipCi(["[skip-ci]", "[skipci]", "(skip ci)"]), false);
    assert.equal(shouldSkipCi([]), false);
    assert.equal(shouldSkipCi([undefined, null]), false);
  });
});
