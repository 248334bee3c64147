import type { TrackedFileDigest, TrustScope } from "../../src/core/cache-key.js";
import type { Hook } from "../../src/core/config/schema.js";
import type { CacheRecords } from "../cache/cache-images.js";
import type { FleetCache } from "../cache/fleet-cache.js";
import type { Engine } from "../engine/port.js";
import type { LogSink } from "../logs/log-sink.js";
import { noSections, type SectionRecorder } from "../logs/section-recorder.js";
import { processWorkspaces } from "../source/step-workspaces.js";
import { explainNetworkFailure, networkFailureWatch } from "./network-failure.js";
import { resolveLimits } from "./resolve-limits.js";
import type { StepOutcome, StepSpec } from "./run-step.js";
import type { PipelineSettings } from "../../src/core/pipeline-settings.js";
import type { StepTimings } from "./step-timings.js";
import type { TestResults } from "../reports/collect-reports.js";
import type { ArtifactSink } from "../reports/collect-artifacts.js";

export interface JobInput {
  jobId: string;
  repositoryId: string;
  scope: TrustScope;
  /** Untrusted jobs: whose installs they share (cacheFork); one fork never hits another's. */
  fork?: string;
  hook: Hook;
  /** A matrix job's combination, for its install cache key. */
  matrix?: Readonly<Record<string, string>>;
  /** The working tree at the job's commit, `.git` included. */
  sourceDir: string;
  /** The hook's tracked files, resolved and hashed by the caller. */
  trackedFiles: readonly TrackedFileDigest[];
  /**
   * The values of the hook's `secrets:`, for both scripts' processes (never the containers'
   * configuration, never the cache key). Absent for untrusted jobs.
   */
  secrets?: Record<string, string>;
}

export type JobPhase = "preparing" | "installing" | "building";

export interface RunJobOptions {
  engine: Engine;
  settings: PipelineSettings;
  log: LogSink;
  /** Where the log's sections (preparing, install, build) are recorded, beside the log. */
  sections?: SectionRecorder;
  /** Where committed cache images are recorded; a hit is taken only for a recorded image. */
  cacheRecords: CacheRecords;
  signal?: AbortSignal;
  onPhase?: (phase: JobPhase) => void;
  /** Durations of the job's steps, for the benchmark's split. */
  timings?: StepTimings;
  /** The fleet's install cache (KOZMIC_CACHE_REGISTRY): pulled on a miss, pushed after a commit. */
  fleet?: FleetCache;
  /**
   * Takes each step's removal instead of waiting for it, so the result is reported first;
   * the caller must await what it was given (see run-step.ts).
   */
  deferCleanup?: (removal: Promise<void>) => void;
  /** Where the hook's `artifacts:` go; without it they are not collected. */
  artifacts?: ArtifactSink;
}

/** What a job's result says of the install cache. */
export interface CacheOutcome {
  cacheKey?: string;
  cacheHit?: boolean;
  /** On a miss: why the install was not cached (first run, or what changed). */
  cacheMissReasons?: string[];
}

export interface JobResult extends CacheOutcome {
  conclusion: "success" | "failure" | "timed_out" | "cancelled";
  exitCode?: number;
  /** What the hook's `reports:` said, when one was read. */
  tests?: TestResults;
  /** Seconds spent in each phase, the unit of the job record and the check run. */
  durations: { pull: number; install: number; build: number; total: number };
}

/** Stands in the output of a step that sudo refused because of no-new-privileges. */
const NO_NEW_PRIVILEGES_REFUSAL = /"no new privileges" flag is set/;

/** What every step of one job shares: its log, sections, clock, limits and steps' base. */
export class JobContext {
  readonly started = Date.now();
  readonly elapsedMs = { pull: 0, install: 0, build: 0, total: 0 };
  readonly sections: SectionRecorder;
  readonly stepBase: Omit<StepSpec, "image" | "script">;
  /** The log the scripts write to: it notices sudo refused by no-new-privileges. */
  readonly stepLog: LogSink;
  private refusedSudo = false;
  private readonly network = networkFailureWatch();

  constructor(
    readonly job: JobInput,
    readonly options: RunJobOptions,
  ) {
    const { settings, log, signal } = options;
    const { hook } = job;
    this.sections = options.sections ?? noSections;
    this.stepLog = {
      write: (text) => {
        if (settings.noNewPrivileges && NO_NEW_PRIVILEGES_REFUSAL.test(text)) {
          this.refusedSudo = true;
        }
        this.network.see(text);
        log.write(text);
      },
      flush: () => log.flush(),
    };
    const { notes, ...limits } = resolveLimits(hook, job.scope, settings);
    this.limitNotes = notes;
    this.stepBase = {
      jobId: job.jobId,
      sourceDir: job.sourceDir,
      env: hook.env,
      secrets: job.secrets,
      user: hook.user,
      echo: hook.echo,
      ...limits,
      noNewPrivileges: settings.noNewPrivileges,
      timings: options.timings,
      deferCleanup: options.deferCleanup,
      runtime: settings.runtime,
      dataDir: settings.dataDir,
      workspaceRoot: settings.workspacesDir ?? processWorkspaces(settings.dataDir),
      deadline: this.started + hook.timeout * 1000,
      stallTimeoutMs: hook.stall_timeout * 1000,
      signal,
    };
  }

  /** The default network, "bridge", was not there: the job runs on "none". */
  private noBridge = false;

  /** The engine's answer to whether it has the default network, once asked. */
  private defaultNetworkAnswer: Promise<boolean> | undefined;

  /**
   * Asks the engine whether it has the default network (once), when the job is to use it:
   * asked beside the base image's lookup, it costs the job no round trip of its own.
   */
  askDefaultNetwork(): Promise<boolean> | undefined {
    const { settings, engine } = this.options;
    if (!settings.networkIsDefault || this.stepBase.network !== settings.network) return;
    // An engine that does not answer is the next step's to report (as an infrastructure error).
    return (this.defaultNetworkAnswer ??= engine.hasNetwork(settings.network).catch(() => true));
  }

  /**
   * With KOZMIC_NETWORK unset, jobs get Docker's `bridge`; on an engine without one
   * (dockerd --bridge=none) they run without a network, and the log says why.
   */
  async checkDefaultNetwork(): Promise<void> {
    const answer = this.askDefaultNetwork();
    if (!answer || (await answer)) return;
    const { settings } = this.options;
    this.noBridge = true;
    this.stepBase.network = "none";
    this.say(
      `network: none, since the Docker engine on ${this.where} has no "${settings.network}" ` +
        "network (dockerd --bridge=none?); set KOZMIC_NETWORK there to give jobs one",
    );
  }

  /** Notes on limits the runner lowered, for the log's first lines. */
  readonly limitNotes: readonly string[];

  /** Who applies the runner's settings, for messages. */
  get where(): string {
    return this.options.settings.place ?? "this runner";
  }

  say(line: string): void {
    this.options.log.write(`==> ${line}\n`);
  }

  /** After a failed script: that it had no network, or why sudo failed, when either was the cause. */
  explainFailure(): void {
    if (this.network.seen) {
      this.say(
        explainNetworkFailure({
          network: this.stepBase.network,
          hookNetwork: this.job.hook.network,
          runnerNetwork: this.options.settings.network,
          ...(this.noBridge ? { engineLacks: this.options.settings.network } : {}),
          untrusted: this.job.scope === "untrusted",
          where: this.where,
        }),
      );
    }
    if (!this.refusedSudo) return;
    this.say(
      `sudo was refused because KOZMIC_NO_NEW_PRIVILEGES=true is set on ${this.where}; ` +
        "unset it there to let scripts use sudo, or run the hook as `user: root`",
    );
  }

  /** Called as the job ends, before its last section ends: the services' output. */
  beforeFinish?: () => void;

  /** The job's result, its durations and its closing line. */
  finish(result: Omit<JobResult, "durations">): JobResult {
    const ms = this.elapsedMs;
    ms.total = Date.now() - this.started;
    this.beforeFinish?.();
    this.sections.end(result.conclusion);
    const s = (value: number) => value / 1000;
    const durations = {
      pull: s(ms.pull),
      install: s(ms.install),
      build: s(ms.build),
      total: s(ms.total),
    };
    this.say(
      `${result.conclusion} in ${durations.total.toFixed(1)}s ` +
        `(pull ${durations.pull.toFixed(1)}s, install ${durations.install.toFixed(1)}s, ` +
        `build ${durations.build.toFixed(1)}s)`,
    );
    return { ...result, durations };
  }

  /** The job's result when a step was stopped (timed out, cancelled); else undefined. */
  stopped(
    outcome: StepOutcome,
    cache: CacheOutcome & { tests?: TestResults },
  ): JobResult | undefined {
    if (outcome.kind === "cancelled") {
      this.say("cancelled");
      return this.finish({ conclusion: "cancelled", ...cache });
    }
    if (outcome.kind === "timed_out") {
      this.say(`timed out: ${outcome.reason}`);
      return this.finish({ conclusion: "timed_out", ...cache });
    }
    return undefined;
  }

  /** A step's outcome, with a cancellation of the job told as `cancelled`, not as an error. */
  async cancellable(step: Promise<StepOutcome>): Promise<StepOutcome> {
    try {
      return await step;
    } catch (error) {
      if (this.options.signal?.aborted) return { kind: "cancelled" };
      throw error;
    }
  }
}
