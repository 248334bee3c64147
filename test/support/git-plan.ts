import { randomUUID } from "node:crypto";
import { ChecksReporter } from "../../src/checks/checks-reporter.js";
import { createInstallationOctokit } from "../../src/checks/create-installation-octokit.js";
import { parseConfig } from "../../src/core/config/parse-config.js";
import type { JobMessage } from "../../src/core/job-message.js";
import { planJobs } from "../../src/core/plan-jobs.js";
import type { Queue } from "../../src/queue/port.js";
import type { Store } from "../../src/store/port.js";
import type { FakeGitHub } from "./fake-github/fake-github.js";

/**
 * What the app does for a push, without the app: plans the jobs of a commit's config, records
 * the build, creates each queued check run on the fake and sends the messages.
 */
export async function planPush(input: {
  fake: FakeGitHub;
  privateKey: string;
  queue: Queue;
  store: Store;
  repository: { id: number; fullName: string; cloneUrl: string; private: boolean };
  installationId: number;
  sha: string;
  config: string;
  publicUrl?: string;
  /** Leave the messages unsent (returned instead), e.g. to time their pickup. Default true. */
  send?: boolean;
}): Promise<{ jobIds: string[]; messages: JobMessage[] }> {
  const plan = planJobs(
    parseConfig(input.config),
    {
      event: "push",
      installationId: input.installationId,
      repository: input.repository,
      sha: input.sha,
      ref: "refs/heads/main",
      trigger: "octocat",
    },
    { newId: () => randomUUID(), now: Date.now() },
  );
  const reporter = new ChecksReporter(
    createInstallationOctokit(
      input.fake.appId,
      input.privateKey,
      input.installationId,
      input.fake.url,
      {
        paceWrites: false,
        retryAfterBaseValue: 1,
      },
    ),
  );
  const [owner, repo] = input.repository.fullName.split("/") as [string, string];
  for (const job of plan.jobs) {
    job.record.checkRunId = await reporter.createQueued({
      owner,
      repo,
      name: job.hook.name,
      headSha: input.sha,
      jobId: job.record.id,
      detailsUrl: `${input.publicUrl ?? "https://kozmic.test"}/jobs/${job.record.id}`,
      waitsFor: job.record.waitsFor ?? [],
    });
    job.message.checkRunId = job.record.checkRunId;
  }
  await input.store.createBuild(
    plan.build,
    plan.jobs.map((j) => j.record),
  );
  // A waiting job's message is sent when the jobs it needs succeeded.
  const ready = plan.jobs.filter((job) => job.record.status === "queued");
  if (input.send !== false) for (const job of ready) await input.queue.send(job.message);
  return { jobIds: plan.jobs.map((j) => j.record.id), messages: plan.jobs.map((j) => j.message) };
}
