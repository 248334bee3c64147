import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { ProbotOctokit } from "probot";
import { createRepositoryFinder } from "../../src/web/find-repository-with-app.js";
import { octokitResilienceOptions } from "../../src/checks/create-installation-octokit.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";

const key = generateAppKey();
let fake: FakeGitHub;
before(async () => {
  fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 42 });
});
after(() => fake.close());

const auth = async (installationId?: number) =>
  new ProbotOctokit({
    auth: {
      appId: 42,
      privateKey: key.privateKeyPem,
      ...(installationId ? { installationId } : {}),
    },
    baseUrl: fake.url,
    ...octokitResilienceOptions({ paceWrites: false, retryAfterBaseValue: 1 }),
  });

it("finds an installed repository's id and visibility as the app, and remembers them", async () => {
  const open = fake.addRepository({ fullName: "acme/open", installationId: 7 });
  const secret = fake.addRepository({ fullName: "acme/Secret", installationId: 8, private: true });
  const find = createRepositoryFinder(auth);
  assert.deepEqual(await find("acme/open"), {
    id: open.id,
    fullName: "acme/open",
    private: false,
    installationId: 7,
  });
  assert.deepEqual(await find("acme/secret"), {
    id: secret.id,
    fullName: "acme/Secret",
    private: true,
    installationId: 8,
  });
  const requests = fake.requests.length;
  assert.deepEqual(await find("ACME/OPEN"), {
    id: open.id,
    fullName: "acme/open",
    private: false,
    installationId: 7,
  });
  assert.equal(fake.requests.length, requests, "answered from memory");
  assert.deepEqual(fake.violations, []);
});

it("reports GitHub failures as GitHub being unavailable, not as a missing repository", async () => {
  fake.addRepository({ fullName: "acme/flaky", installationId: 9 });
  fake.failNext(10);
  const find = createRepositoryFinder(async (id) => {
    const octokit = await auth(id);
    octokit.hook.wrap("request", async (request, options) =>
      request({ ...options, request: { retries: 0 } }),
    );
    return octokit;
  });
  await assert.rejects(find("acme/flaky"), { name: "GitHubUnavailableError" });
});
