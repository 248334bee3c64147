import { CONFIG_PATH } from "../core/config/format-config-issues.js";
import type { ConfigIssue } from "../core/errors.js";
import {
  capLogTail,
  jobAnnotations,
  chunk,
  completionOutput,
  configAnnotations,
  configFailureOutput,
  infrastructureFailureOutput,
  MAX_ANNOTATIONS_PER_REQUEST,
  type CompletionFacts,
} from "./check-run-output.js";

/**
 * The one Octokit method the reporter needs, so that Probot's context.octokit, a
 * ProbotOctokit made by the runner, or any @octokit/core client fits.
 */
export interface RequestOctokit {
  request(route: string, parameters?: Record<string, unknown>): Promise<{ data: unknown }>;
}

export interface CheckRunRef {
  owner: string;
  repo: string;
  checkRunId: number;
}

/** The commit a check run is created on. */
export interface CheckCommit {
  owner: string;
  repo: string;
  headSha: string;
}

export const CONFIG_CHECK_NAME = "Kozmic configuration";

const CANCEL_ACTION = {
  label: "Cancel",
  description: "Stop this job",
  identifier: "cancel",
} as const;

const PHASE_TEXT: Record<"preparing" | "installing" | "building", string> = {
  preparing: "Preparing: pulling the image and the source",
  installing: "Installing dependencies (cached for later jobs)",
  building: "Building and testing",
};

export interface ChecksReporterOptions {
  /** Least time between two progress updates of one check run. Default 5 s. */
  progressIntervalMs?: number;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
}

/** Reports jobs as GitHub check runs: queued, in progress, progress, and the end. */
export class ChecksReporter {
  private readonly lastProgress = new Map<number, number>();
  private readonly interval: number;
  private readonly now: () => number;

  constructor(
    private readonly octokit: RequestOctokit,
    options: ChecksReporterOptions = {},
  ) {
    this.interval = options.progressIntervalMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /** Creates a queued check run for a job and returns its id. */
  async createQueued(
    input: CheckCommit & {
      name: string;
      jobId: string;
      detailsUrl: string;
      /** The hooks a job of a hook with `needs` waits for, which its summary names. */
      waitsFor?: readonly string[];
    },
  ): Promise<number> {
    const waits = input.waitsFor?.length ? input.waitsFor : undefined;
    return this.create(input, {
      name: input.name,
      status: "queued",
      external_id: input.jobId,
      details_url: input.detailsUrl,
      output: waits
        ? {
            title: `Waiting for ${waits.join(", ")}`,
            summary: `Waits for ${waits.join(", ")}: it starts once they succeeded, and is skipped if one does not.`,
          }
        : { title: "Queued", summary: "Waiting for a runner." },
    });
  }

  /**
   * Ends a job that never ran because a job it needs did not succeed: its queued check run
   * completed `skipped`, or a skipped one made for a job that has none yet.
   */
  async completeSkippedJob(
    repository: CheckCommit,
    job: { id: string; hook: string; checkRunId?: number; message?: string },
    logUrl: string,
  ): Promise<void> {
    const reason = (job.message ?? "a job it needs did not succeed").replace(/^skipped: /, "");
    if (job.checkRunId === undefined) {
      await this.reportSkipped({ ...repository, name: job.hook, reason, externalId: job.id });
      return;
    }
    await this.complete(
      { ...repository, checkRunId: job.checkRunId },
      { conclusion: "skipped", reason: `Skipped: ${reason}.`, logUrl },
    );
  }

  /**
   * A completed `skipped` check run for a hook its `paths:` left out: GitHub counts a skipped
   * required check as passed, where a missing one would keep a pull request waiting.
   */
  async reportSkipped(
    input: CheckCommit & { name: string; reason: string; externalId: string },
  ): Promise<number> {
    return this.create(input, {
      name: input.name,
      ...this.completedNow("skipped"),
      external_id: input.externalId,
      output: { title: "Skipped", summary: `Not run: ${input.reason}.` },
    });
  }

  /** Marks the run in progress with the phase in words and a Cancel button. */
  async markInProgress(
    ref: CheckRunRef,
    phase: "preparing" | "installing" | "building",
    startedAt?: Date,
  ): Promise<void> {
    await this.update(ref, {
      status: "in_progress",
      ...(startedAt ? { started_at: startedAt.toISOString() } : {}),
      output: { title: PHASE_TEXT[phase], summary: PHASE_TEXT[phase] },
      actions: [CANCEL_ACTION],
    });
  }

  /**
   * Shows the end of the log. At most one update per interval per check run: a call in
   * between is dropped (returns false), since the next one carries a newer tail anyway.
   */
  async progress(
    ref: CheckRunRef,
    phase: "preparing" | "installing" | "building",
    logTail: string,
  ): Promise<boolean> {
    const now = this.now();
    const last = this.lastProgress.get(ref.checkRunId);
    if (last !== undefined && now - last < this.interval) return false;
    this.lastProgress.set(ref.checkRunId, now);
    await this.update(ref, {
      status: "in_progress",
      output: { title: PHASE_TEXT[phase], summary: PHASE_TEXT[phase], text: capLogTail(logTail) },
      actions: [CANCEL_ACTION],
    });
    return true;
  }

  /**
   * Completes the run with the job's result; the Cancel button goes away. `startedAt`: when
   * the job began, for a run that never went in progress (a short job reports only this).
   */
  async complete(
    ref: CheckRunRef,
    facts: CompletionFacts,
    logTail?: string,
    startedAt?: Date,
  ): Promise<void> {
    this.lastProgress.delete(ref.checkRunId);
    const output = {
      ...completionOutput(facts),
      ...(logTail !== undefined ? { text: capLogTail(logTail) } : {}),
    };
    const annotations = jobAnnotations(facts.annotations ?? []);
    // GitHub adds each request's annotations to the run's, 50 at a time: a completion tried
    // again (a request failed, a runner died) sends only those the run does not hold yet.
    const held = annotations.length > 0 ? await this.annotationsHeld(ref) : 0;
    const batches = chunk(annotations.slice(held), MAX_ANNOTATIONS_PER_REQUEST);
    await this.update(ref, {
      ...this.completedNow(facts.conclusion),
      ...(startedAt ? { started_at: startedAt.toISOString() } : {}),
      output: { ...output, ...(batches[0] ? { annotations: batches[0] } : {}) },
      actions: [],
    });
    for (const batch of batches.slice(1))
      await this.update(ref, { output: { ...output, annotations: batch } });
  }

  /** How many annotations a check run holds (only a completion adds any). */
  private async annotationsHeld(ref: CheckRunRef): Promise<number> {
    const { data } = await this.octokit.request(
      "GET /repos/{owner}/{repo}/check-runs/{check_run_id}",
      { owner: ref.owner, repo: ref.repo, check_run_id: ref.checkRunId },
    );
    return (data as { output?: { annotations_count?: number } }).output?.annotations_count ?? 0;
  }

  /**
   * Completes a job that Kozmic itself could not run. Its conclusion is
   * `action_required` (it still blocks a protected branch, unlike `neutral`) and its title
   * says the infrastructure failed, so it never reads like the user's build failing.
   */
  async completeInfrastructureFailure(
    ref: CheckRunRef,
    message: string,
    logUrl: string,
  ): Promise<void> {
    this.lastProgress.delete(ref.checkRunId);
    await this.update(ref, {
      ...this.completedNow("action_required"),
      output: infrastructureFailureOutput(message, logUrl),
      actions: [],
    });
  }

  /**
   * One failed "Kozmic configuration" check run listing every problem, with an annotation
   * per problem on its line; annotations go 50 per request, as GitHub requires.
   */
  async reportConfigurationError(
    input: CheckCommit & {
      issues: readonly ConfigIssue[];
      /** Lets a retried planning find this run instead of creating a second one. */
      externalId?: string;
    },
  ): Promise<number> {
    const output = configFailureOutput(input.issues, CONFIG_PATH);
    const batches = chunk(
      configAnnotations(input.issues, CONFIG_PATH),
      MAX_ANNOTATIONS_PER_REQUEST,
    );
    const checkRunId = await this.create(input, {
      name: CONFIG_CHECK_NAME,
      ...this.completedNow("failure"),
      ...(input.externalId ? { external_id: input.externalId } : {}),
      output: { ...output, annotations: batches[0] ?? [] },
    });
    const ref = { owner: input.owner, repo: input.repo, checkRunId };
    for (const batch of batches.slice(1))
      await this.update(ref, { output: { ...output, annotations: batch } });
    return checkRunId;
  }

  /** Creates a check run on the commit; its id. */
  private async create(commit: CheckCommit, body: Record<string, unknown>): Promise<number> {
    const { owner, repo, headSha } = commit;
    const { data } = await this.octokit.request("POST /repos/{owner}/{repo}/check-runs", {
      ...{ owner, repo, head_sha: headSha },
      ...body,
    });
    return (data as { id: number }).id;
  }

  /** A check run completed now, concluded so. */
  private completedNow(conclusion: string) {
    return { status: "completed", conclusion, completed_at: new Date(this.now()).toISOString() };
  }

  private async update(ref: CheckRunRef, body: Record<string, unknown>): Promise<void> {
    await this.octokit.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
      owner: ref.owner,
      repo: ref.repo,
      check_run_id: ref.checkRunId,
      ...body,
    });
  }
}
