import { test } from "node:test";
import assert from "node:assert/strict";
import { imageIsNamed, lookupRef, parseImageRef } from "../../src/core/image-ref.js";

test("references split into name, tag and digest", () => {
  assert.deepEqual(parseImageRef("python"), { name: "python" });
  assert.deepEqual(parseImageRef("localhost:5000/app:1.2"), {
    name: "localhost:5000/app",
    tag: "1.2",
  });
  assert.deepEqual(parseImageRef("app@sha256:ab"), { name: "app", digest: "sha256:ab" });
});

test("lookups always carry a tag or digest, so Docker never matches an ID prefix", () => {
  assert.equal(lookupRef("9b1ba2"), "9b1ba2:latest");
  assert.equal(lookupRef("a"), "a:latest");
  assert.equal(lookupRef("python:3.12"), "python:3.12");
  assert.equal(lookupRef("localhost:5000/app"), "localhost:5000/app:latest");
  assert.equal(lookupRef("app@sha256:ab"), "app@sha256:ab");
});

test("an image counts only when it is known by the name asked for", () => {
  const image = { tags: ["busybox:latest", "kozmic-test/x:1"], digests: ["busybox@sha256:ff"] };
  assert.equal(imageIsNamed("busybox", image), true);
  assert.equal(imageIsNamed("docker.io/library/busybox:latest", image), true);
  assert.equal(imageIsNamed("kozmic-test/x:1", image), true);
  assert.equal(imageIsNamed("busybox@sha256:ff", image), true);
  assert.equal(imageIsNamed("kozmic-test/x", image), false, "x:latest is not x:1");
  assert.equal(imageIsNamed("9b1ba2", image), false);
  assert.equal(imageIsNamed("busybox@sha256:00", image), false);
  assert.equal(imageIsNamed("a", { tags: [] }), false, "an untagged image is never a hook's image");
});
