import { test } from "node:test";
import assert from "node:assert/strict";
import { jobMessageSchema, parseMessageHook } from "../../src/core/job-message.js";

const valid = {
  version: 1,
  jobId: "job-1",
  buildId: "build-1",
  installationId: 42,
  repository: {
    id: 7,
    fullName: "octo/app",
    cloneUrl: "https://github.example/octo/app.git",
    private: false,
  },
  sha: "a".repeat(40),
  ref: "refs/heads/main",
  event: "push",
  trust: "trusted",
  hook: { name: "test", image: "busybox", build: "true", timeout: "5m" },
};

test("a well-formed job message parses, and its hook gets defaults", () => {
  const message = jobMessageSchema.parse(valid);
  const hook = parseMessageHook(message);
  assert.equal(hook.timeout, 300);
  assert.equal(hook.stall_timeout, 900);
  assert.equal(hook.pull, "if-not-present");
});

test("a message carrying a token or an unknown field is refused", () => {
  const result = jobMessageSchema.safeParse({ ...valid, token: "ghs_secret" });
  assert.equal(result.success, false);
  assert.match(String(result.error), /token/);
});

test("a malformed sha or a missing job id is refused with the field named", () => {
  const result = jobMessageSchema.safeParse({ ...valid, sha: "HEAD", jobId: "" });
  assert.equal(result.success, false);
  const paths = result.error!.issues.map((i) => i.path.join("."));
  assert.deepEqual(paths.sort(), ["jobId", "sha"]);
});

test("a message whose hook breaks the config schema is refused, the hook's field named", () => {
  const result = jobMessageSchema.safeParse({
    ...valid,
    hook: { name: "test", image: "busybox", build: "true", timeout: "forever", colour: 1 },
  });
  assert.equal(result.success, false);
  const paths = result.error!.issues.map((i) => i.path.join("."));
  assert.ok(paths.includes("hook.timeout"), paths.join(", "));
  assert.ok(
    paths.some((p) => p.startsWith("hook")),
    "the unknown key is reported under hook",
  );
});
