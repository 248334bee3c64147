import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ChecksReporter } from "../../src/checks/checks-reporter.js";
import { createInstallationOctokit } from "../../src/checks/create-installation-octokit.js";
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
    const burst = WRITE_BURST - 1; // one write of the burst was the creation
    const ofOne = () => arrivals.filter((a) => a.installation === "one");
    // Once installation one has used its burst and waits, installation two writes.
    const deadline = Date.now() + 60_000;
    while (ofOne().length < burst && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(ofOne().length, burst, "installation one's burst left");
    await two.markInProgress({ owner: "paced", repo: "two", checkRunId: runTwo }, "building");
    // Its write went ahead of one's queue: at most the one paced write whose refill was
    // already due left before it.
    const aheadOfTwo = arrivals.findIndex((a) => a.installation === "two");
    assert.ok(
      aheadOfTwo <= burst + 1,
      `installation two waited behind ${aheadOfTwo} writes of one`,
    );
    await Promise.all(pending);

    const times = ofOne().map((a) => a.at);
    assert.equal(times.length, updates);
    // The first paced write waits for the bucket's next refill (under a second); each one
    // after it, a whole second. The burst's writes left together: closer to each other than
    // any two paced ones.
    const burstGaps = times.slice(1, burst).map((at, i) => at - times[i]!);
    const pacedGaps = times.slice(burst + 1).map((at, i) => at - times[burst + i]!);
    for (const [i, gap] of pacedGaps.entries()) {
      assert.ok(gap >= 700, `update ${burst + i + 2} left ${gap} ms after the one before it`);
    }
    assert.ok(
      Math.max(...burstGaps) < Math.min(...pacedGaps),
      `the first ${burst} updates left together (gaps ${burstGaps.join(", ")} ms; paced ${pacedGaps.join(", ")} ms)`,
    );
    assert.deepEqual(fake.violations, []);
  });
});
