import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ChecksReporter, createInstallationOctokit } from "../../src/checks/index.js";
import { WRITE_BURST } from "../../src/checks/write-pacing.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";

const key = generateAppKey();
const SHA = "a".repeat(40);

/** Production write pacing (on, as every runner and planner uses it) as GitHub sees it. */
describe("GitHub write pacing per installation: a small burst, then one a second", () => {
  let fake: FakeGitHub;
  const arrivals: { installation: string; at: number }[] = [];

  before(async () => {
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 42 });
    fake.addRepository({ fullName: "paced/one", installationId: 71 });
    fake.addRepository({ fullName: "paced/two", installationId: 72 });
    fake.rawHandlers.push((req) => {
      const match = /\/repos\/paced\/(\w+)\/check-runs\/\d+$/.exec(req.url ?? "");
      if (req.method === "PATCH" && match)
        arrivals.push({ installation: match[1]!, at: Date.now() });
      return false;
    });
  });
  after(() => fake.close());

  const reporterFor = (installationId: number) =>
    new ChecksReporter(
      createInstallationOctokit(42, key.privateKeyPem, installationId, fake.url, {
        retryAfterBaseValue: 1,
      }),
    );

  it("writes beyond the burst leave a second apart; another installation is not held up", async () => {
    const one = reporterFor(71);
    const two = reporterFor(72);
    const runOf = (reporter: ChecksReporter, repo: string) =>
      reporter.createQueued({
        owner: "paced",
        repo,
        name: "t",
        headSha: SHA,
        jobId: "j",
        detailsUrl: "https://ci.example.test/jobs/j",
      });
    // The creations are writes too: they take part of the burst.
    const runOne = await runOf(one, "one");
    const runTwo = await runOf(two, "two");
    const updates = WRITE_BURST + 3;
    const ref = { owner: "paced", repo: "one", checkRunId: runOne };
    const pending = Array.from({ length: updates }, () => one.markInProgress(ref, "building"));
    // While installation one is paced, installation two's write goes at once.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const asked = Date.now();
    await two.markInProgress({ owner: "paced", repo: "two", checkRunId: runTwo }, "building");
    const twoAt = arrivals.find((a) => a.installation === "two")!.at;
    assert.ok(twoAt - asked < 500, `installation two waited ${twoAt - asked} ms behind one`);
    await Promise.all(pending);

    const times = arrivals.filter((a) => a.installation === "one").map((a) => a.at);
    assert.equal(times.length, updates);
    const burst = WRITE_BURST - 1; // one write of the burst was the creation
    assert.ok(
      times[burst - 1]! - times[0]! < 1000,
      `the first ${burst} updates left together (${times[burst - 1]! - times[0]!} ms)`,
    );
    // The first paced write waits for the bucket's next refill (under a second); each one
    // after it, a whole second.
    for (let i = burst + 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      assert.ok(gap >= 700, `update ${i + 1} left ${gap} ms after the one before it`);
    }
    assert.deepEqual(fake.violations, []);
  });
});
