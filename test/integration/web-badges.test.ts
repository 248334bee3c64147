import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { startWebHarness, type WebHarness } from "./web-harness.js";

let h: WebHarness;
before(async () => {
  h = await startWebHarness();
});
after(() => h.close());

async function badge(query: string, cookie?: string) {
  const res = await fetch(`${h.url}/badges/octo/public.svg${query}`, {
    headers: cookie ? { cookie } : {},
  });
  const body = await res.text();
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    label: /aria-label="([^"]*)"/.exec(body)?.[1],
  };
}

it("shows the newest push build of the branch and hook; pull requests do not count", async () => {
  assert.deepEqual(await badge(""), {
    status: 200,
    type: "image/svg+xml; charset=utf-8",
    label: "kozmic: unknown",
  });
  const t = Date.now() - 10_000;
  await h.addJob({
    repo: "octo/public",
    build: { createdAt: t, ref: "refs/heads/main" },
    job: { hook: "lint", status: "completed", conclusion: "failure" },
  });
  await h.addJob({
    repo: "octo/public",
    build: { createdAt: t + 1, ref: "refs/heads/main" },
    job: { hook: "test", status: "completed", conclusion: "success" },
  });
  await h.addJob({
    repo: "octo/public",
    build: { createdAt: t + 2, ref: "refs/heads/dev" },
    job: { hook: "test", status: "running", phase: "building", conclusion: undefined },
  });
  await h.addJob({
    repo: "octo/public",
    build: { createdAt: t + 3, ref: "refs/pull/4/merge", pullRequest: 4, event: "pull_request" },
    job: { hook: "test", status: "completed", conclusion: "failure" },
  });
  assert.equal((await badge("")).label, "kozmic: running");
  assert.equal((await badge("?branch=main")).label, "kozmic: passing");
  assert.equal((await badge("?branch=main&hook=lint")).label, "lint: failing");
  assert.equal((await badge("?branch=dev&hook=test")).label, "test: running");
  assert.equal((await badge("?branch=dev&hook=lint")).label, "lint: unknown");
  assert.equal((await badge("?branch=nope")).label, "kozmic: unknown");
  const unknownRepo = await fetch(`${h.url}/badges/octo/nothing.svg`);
  assert.equal(unknownRepo.status, 404);
});

it("a private repository's badge needs a signed-in reader", async () => {
  await h.addJob({ repo: "octo/secret", job: { status: "completed", conclusion: "timed_out" } });
  assert.equal((await fetch(`${h.url}/badges/octo/secret.svg`)).status, 404);
  const carol = await h.signIn("carol");
  const res = await fetch(`${h.url}/badges/octo/secret.svg`, { headers: { cookie: carol } });
  assert.equal(res.status, 200);
  assert.match(await res.text(), /aria-label="kozmic: timed out"/);
  assert.equal(res.headers.get("cache-control"), "private, no-store");
});
