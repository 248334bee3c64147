import type { JobConclusion, JobPhase, JobStatus } from "./job-state.js";
import type { JobMessage, TrustScope } from "./job-message.js";

/** What a build and its jobs are, as the planner makes them and every store keeps them. */
export interface BuildRecord {
  id: string;
  installationId: number;
  repoId: number;
  repoFullName: string;
  /** Whether the repository was private when the build was planned; log pages need login then. */
  repoPrivate: boolean;
  sha: string;
  ref: string;
  event: "push" | "pull_request" | "rerun" | "manual" | "schedule";
  pullRequest?: number;
  /** Who or what started it, e.g. the pusher's login or "rerun by octocat". */
  trigger: string;
  trust: TrustScope;
  /** Untrusted builds of pull requests: the fork's repository id (whose installs they share). */
  headRepositoryId?: number;
  createdAt: number;
  /**
   * The delivery (or page action) whose planning made this build: a planner retrying that
   * delivery resumes the build instead of taking it for another delivery's.
   */
  deliveryId?: string;
}

/** An annotation the job asked for with a workflow command (`::error file=a.py,line=3::…`). */
export interface JobAnnotation {
  level: "failure" | "warning" | "notice";
  /** Relative to the repository; `.github` when the command names no file, as Actions does. */
  path: string;
  startLine: number;
  endLine: number;
  startColumn?: number;
  endColumn?: number;
  title?: string;
  message: string;
}

/** What a job's test reports (`reports:`) counted, one test per testcase. */
export interface TestCounts {
  tests: number;
  /** Tests with a `<failure>` or an `<error>`. */
  failed: number;
  skipped: number;
}

export interface JobRecord {
  id: string;
  buildId: string;
  repoId: number;
  repoFullName: string;
  sha: string;
  hook: string;
  status: JobStatus;
  phase?: JobPhase;
  conclusion?: JobConclusion;
  checkRunId?: number;
  /** Set when the job ended because of an infrastructure failure, or why it was cancelled. */
  message?: string;
  exitCode?: number;
  cacheKey?: string;
  cacheHit?: boolean;
  /** On a cache miss: why the install was not cached, for the check run. */
  cacheMissReasons?: string[];
  /** Seconds spent in each phase. */
  durations?: Partial<Record<"pull" | "install" | "build" | "total", number>>;
  /** Chunks of the job's log when it ended: where a later report finds the log's end. */
  logChunks?: number;
  /** What the job's `::error`/`::warning`/`::notice` lines said, for the check run. */
  annotations?: JobAnnotation[];
  /** What the hook's JUnit reports counted; absent when it names none or none was read. */
  tests?: TestCounts;
  /**
   * When GitHub's check run was completed from this record. A finished job without it is
   * reported by whichever runner receives its message next.
   */
  reportedAt?: number;
  cancelRequested?: boolean;
  /** A job of a hook with `needs`: the ids of the jobs that must succeed before it is queued. */
  needs?: string[];
  /** The hook names its `needs` lists, as the pages and its check run say it waits for them. */
  waitsFor?: string[];
  /** The ids of the jobs that need this one: its end releases or skips them. */
  dependents?: string[];
  /** A waiting job's queue message, sent when its needs succeeded. */
  waitingMessage?: JobMessage;
  /**
   * The job whose end released this one (queued it or skipped it): whoever settles that end
   * sends this job's message or reports its skip, and resumes doing so after a crash.
   */
  releasedBy?: string;
  /** When a released job's message was sent. */
  enqueuedAt?: number;
  /**
   * The newest receipt of the job's message, left by a runner that received it while
   * another held the lease: the holder's heartbeat then hides the message with it (an
   * older receipt no longer moves it).
   */
  messageReceipt?: string;
  leaseOwner?: string;
  /** Epoch milliseconds. */
  leaseExpiresAt?: number;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  finishedAt?: number;
}

/** Identifies a line of commits whose newer jobs supersede older ones. */
export interface SupersedeKey {
  repoId: number;
  /** `branch:main` or `pr:7`. */
  line: string;
  hook: string;
}
