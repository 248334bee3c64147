import assert from "node:assert/strict";
import { it } from "node:test";
import { FakeEngine } from "../support/fake-engine.js";
import { withPrefetchedImage } from "../../runner/engine/prefetched-image.js";

class CountingEngine extends FakeEngine {
  inspected: string[] = [];
  failNext = false;
  override inspectImage(ref: string) {
    this.inspected.push(ref);
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error(`cannot inspect image ${ref}`));
    }
    return super.inspectImage(ref);
  }
}

it("the prefetched image answers the first lookup of its name; every other lookup asks the engine", async () => {
  const engine = new CountingEngine();
  const base = engine.addImage("team/base:1");
  const other = engine.addImage("team/other:2");
  const wrapped = withPrefetchedImage(engine, "team/base:1");
  assert.deepEqual(engine.inspected, ["team/base:1"], "asked at once");
  assert.equal((await wrapped.inspectImage("team/other:2"))?.id, other.id);
  assert.equal((await wrapped.inspectImage("team/base:1"))?.id, base.id);
  assert.deepEqual(engine.inspected, ["team/base:1", "team/other:2"], "the early answer taken");
  // Later lookups are fresh: an image may be retagged between two hooks.
  engine.addImage("team/base:1");
  assert.notEqual((await wrapped.inspectImage("team/base:1"))?.id, base.id);
  assert.equal(engine.inspected.length, 3);
  // The rest of the engine is the engine's own, bound to it.
  await wrapped.removeImage(other.id);
  assert.equal(await engine.inspectImage("team/other:2"), undefined);
});

it("a prefetch that fails is told to the lookup that takes it, and to nothing when none does", async () => {
  const engine = new CountingEngine();
  engine.failNext = true;
  const wrapped = withPrefetchedImage(engine, "team/gone:1");
  await assert.rejects(wrapped.inspectImage("team/gone:1"), /cannot inspect image team\/gone:1/);
  engine.failNext = true;
  const unhandled: unknown[] = [];
  const note = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", note);
  try {
    withPrefetchedImage(engine, "team/gone:1"); // never taken
    // Node reports a rejection nobody handles once the microtasks of this turn have run.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("unhandledRejection", note);
  }
  assert.deepEqual(unhandled, [], "no unhandled rejection");
});
