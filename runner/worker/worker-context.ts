import type { CheckRunRef } from "../../src/checks/checks-reporter.js";
import type { JobMessage } from "../../src/core/job-message.js";
import type { Queue } from "../../src/queue/port.js";
import type { Store } from "../../src/store/port.js";
import type { ArtifactStore } from "../../src/store/artifact-port.js";
import type { ArtifactSink } from "../reports/collect-artifacts.js";
import type { FleetCache } from "../cache/fleet-cache.js";
import type { Engine } from "../engine/port.js";
import type { StepTimings } from "../pipeline/step-timings.js";
import type { SourceFetcher } from "../source/checkout-commit.js";
import type { GitHubDeps, InstallationAccess } from "./github-access.js";
import type { RunnerSettings } from "../../src/core/runner-settings.js";

/** Where a runner reads repository secrets (a SecretVault). */
export interface SecretSource {
  /** The values of `names`; throws MissingSecretsError naming each one the repository lacks. */
  read(repoId: number, names: readonly string[]): Promise<Record<string, string>>;
}

/** Why a running job was stopped from outside. */
export type StopReason =
  | { kind: "cancel"; message: string }
  | { kind: "shutdown" }
  | { kind: "lease-lost"; message: string };

export interface WorkerContext {
  queue: Queue;
  store: Store;
  engine: Engine;
  settings: RunnerSettings;
  github: Pick<GitHubDeps, "retryBaseMs" | "attempts">;
  access: (installationId: number) => InstallationAccess;
  /** This process's lease owner id. */
  owner: string;
  log: LineLog;
  /** Repository secrets (a SecretVault); without it, hooks that name secrets fail clearly. */
  secrets?: SecretSource;
  /** Durations of each job's steps, for the runner benchmark's split. */
  timings?: StepTimings;
  /** The fleet's install cache, when KOZMIC_CACHE_REGISTRY is set. */
  fleet?: FleetCache;
  /** Finished jobs' check-run reports, in a lane per installation. */
  reports: ReportLanes;
  /**
   * Fetches a job's commit; default fetchSource (git). Fleet-scale tests of many runner loops
   * in one process pass a stand-in: there, git's process spawns would be all they measure.
   */
  fetchSource?: SourceFetcher;
  /** Where jobs' `artifacts:` are kept; without it they are not collected. */
  artifacts?: RunnerArtifacts;
}

/** The artifact store jobs write to, and how much each job may keep. */
export interface RunnerArtifacts {
  store: ArtifactStore;
  maxBytes: number;
}

/** Where one job's artifacts go: the store, under the job's id. */
export function artifactSink(artifacts: RunnerArtifacts, jobId: string): ArtifactSink {
  return {
    put: (name, body, size) => artifacts.store.put(jobId, name, body, size),
    maxBytes: artifacts.maxBytes,
  };
}

/**
 * Where the runner's own lines go: a line of text, info unless it says otherwise (what went
 * wrong around a job is a warning; a job given up on is an error).
 */
export type LineLog = (line: string, level?: "warn" | "error") => void;

export type JobControl = AbortController & { reason?: StopReason };

/** Stops a running job from outside; the first reason given is the one it stops for. */
export function stopJob(control: JobControl, reason: StopReason): void {
  control.reason ??= reason;
  control.abort();
}

/** The check run of a job's message. */
export function refOf(message: JobMessage, checkRunId: number): CheckRunRef {
  const [owner, repo] = message.repository.fullName.split("/") as [string, string];
  return { owner, repo, checkRunId };
}

/**
 * How long a received or heartbeat-extended job message stays hidden: a little past the
 * lease, so that when a runner dies its message comes back after its lease expired and is
 * taken over at once.
 */
export function messageVisibilitySeconds(leaseMs: number): number {
  return Math.ceil(leaseMs / 1000) + 2;
}

/**
 * The reports (check-run completions) of finished jobs, one lane per installation: a lane
 * runs its reports one after another, lanes run side by side. A job's slot is free once
 * its end is recorded, so an installation GitHub rate-limits holds up only its own
 * reports (one request at a time, not one per waiting job), never other installations'
 * jobs or this runner's slots.
 */
export class ReportLanes {
  private readonly lanes = new Map<number, Promise<void>>();

  /** Runs `report` after the lane's earlier reports; it must not throw. */
  add(installationId: number, report: () => Promise<void>): void {
    const previous = this.lanes.get(installationId) ?? Promise.resolve();
    const next = previous.then(report).finally(() => {
      if (this.lanes.get(installationId) === next) this.lanes.delete(installationId);
    });
    this.lanes.set(installationId, next);
  }

  /** Resolves once every report queued so far has run. */
  async idle(): Promise<void> {
    while (this.lanes.size > 0) await Promise.all(this.lanes.values());
  }
}
