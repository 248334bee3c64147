import type { JobStatus } from "../core/job-state.js";
import type { TrustScope } from "../core/job-message.js";
import type { BuildRecord, JobRecord, SupersedeKey } from "../core/build-records.js";
import type { ScheduleRecord } from "../core/schedules.js";

export type { BuildRecord, JobRecord, ScheduleRecord, SupersedeKey };

/** Fields a transition may set besides `status`. */
export type JobUpdate = Partial<
  Omit<JobRecord, "id" | "buildId" | "repoId" | "repoFullName" | "sha" | "hook" | "createdAt">
> & { status: JobStatus };

export type ClaimResult =
  | { outcome: "claimed"; job: JobRecord }
  | { outcome: "taken-over"; job: JobRecord; previousOwner: string }
  | { outcome: "held"; job: JobRecord }
  | { outcome: "finished"; job: JobRecord }
  | { outcome: "missing" };

export interface LogChunk {
  jobId: string;
  /** 0, 1, 2, ... without gaps. */
  seq: number;
  data: string;
  /**
   * Epoch milliseconds when the chunk's first output was written: the log page's line
   * timestamps (a chunk holds at most about a second of output). Absent in older chunks.
   */
  at?: number;
  /** Epoch seconds after which the chunk may be deleted (the DynamoDB TTL attribute); set by the store. */
  expiresAt?: number;
}

/**
 * A part of a job's log (preparing, install, services, build) as the runner recorded it beside the
 * log: the log page folds the chunks [startSeq, endSeq) under its title, and the check run
 * lists it. Never read from the log's text, which the job's own output can forge.
 */
export interface LogSectionRecord {
  jobId: string;
  name: "preparing" | "install" | "services" | "build";
  /** What the page shows, e.g. "Install skipped: cache hit 3f2a…". */
  title: string;
  /** The first chunk of the section's output. */
  startSeq: number;
  /** Epoch ms. */
  startedAt: number;
  /** The chunk after its last one; absent while it runs (or when its runner died). */
  endSeq?: number;
  endedAt?: number;
  conclusion?: "success" | "failure" | "skipped" | "cancelled" | "timed_out";
}

export interface InstallationRecord {
  id: number;
  account: string;
  repositories?: { id: number; fullName: string; private: boolean }[];
  updatedAt: number;
}

/**
 * An install cache image this Kozmic committed. A cache hit is taken only for an image
 * recorded here, so an image that merely carries Kozmic's labels is never trusted.
 */
export interface CacheImageRecord {
  /** Docker's image ID (`sha256:…`), a content address. */
  imageId: string;
  /** The registry digest once the image was pushed (fleet cache). */
  digest?: string;
  repositoryId: string;
  hook: string;
  key: string;
  scope: TrustScope;
  /** Epoch milliseconds. */
  createdAt: number;
}

/** A repository secret as stored: its value only sealed under the repository's data key. */
export interface SecretRecord {
  repoId: number;
  /** An environment variable name (src/core/secret-rules.ts). */
  name: string;
  /** The value sealed by src/secrets/envelope.ts; never the value itself. */
  sealed: string;
  /** Who set it last, e.g. `octocat` or `operator:root`. */
  updatedBy: string;
  /** Epoch milliseconds. */
  updatedAt: number;
}

/** A repository's data key, wrapped by the key-encryption key `wrappedBy` names. */
export interface RepositoryKeyRecord {
  repoId: number;
  wrappedKey: string;
  /** The wrapping key's id (src/secrets/key-wrapper.ts), e.g. `local:3f2a…` or `kms:…`. */
  wrappedBy: string;
  /** Epoch milliseconds. */
  updatedAt: number;
}

/**
 * A fleet lease on installing one cache key: taken when held by nobody, by this owner
 * already (a renewal), or by a holder whose lease has expired.
 */
export type LeaseResult =
  { acquired: true; expiresAt: number } | { acquired: false; owner: string; expiresAt: number };

/**
 * Builds, jobs, leases, logs and webhook deliveries. Every state change is a
 * conditional write: a transition from a state the job is not in throws ConflictError.
 */
export interface Store {
  /** Records a build and its jobs at once; ids must be new. */
  createBuild(build: BuildRecord, jobs: JobRecord[]): Promise<void>;
  getBuild(id: string): Promise<BuildRecord | undefined>;
  /** Builds of a commit, for push + pull request de-duplication and re-runs. */
  findBuildsByCommit(repoId: number, sha: string): Promise<BuildRecord[]>;
  /** Newest first. */
  listBuilds(repoId: number, options?: { limit?: number; before?: number }): Promise<BuildRecord[]>;
  getJob(id: string): Promise<JobRecord | undefined>;
  listJobs(buildId: string): Promise<JobRecord[]>;

  /** Moves a job to `update.status` if it is in one of `from`; throws ConflictError otherwise. */
  transitionJob(id: string, from: readonly JobStatus[], update: JobUpdate): Promise<JobRecord>;
  /** Sets fields that are not the status (check run id, phase) while the job is in `from`. */
  updateJob(
    id: string,
    from: readonly JobStatus[],
    fields: Omit<Partial<JobUpdate>, "status">,
  ): Promise<JobRecord>;

  /** Takes the lease of a queued job, or of a running job whose lease has expired. */
  claimJob(id: string, owner: string, leaseMs: number, now?: number): Promise<ClaimResult>;
  /** Extends the lease; throws ConflictError when `owner` no longer holds it. */
  renewLease(id: string, owner: string, leaseMs: number, now?: number): Promise<JobRecord>;
  requestCancel(id: string, reason: string): Promise<JobRecord | undefined>;

  /** Records `jobId` as the newest of its line; returns the job ids it superseded. */
  recordLatest(key: SupersedeKey, sha: string, jobId: string, createdAt: number): Promise<string[]>;

  /** Appends a chunk; a chunk with an existing seq is ignored (idempotent retries). */
  appendLog(chunk: LogChunk): Promise<void>;
  /** Chunks with seq >= fromSeq, in order. */
  readLog(jobId: string, fromSeq?: number, limit?: number): Promise<LogChunk[]>;
  /**
   * Records a section of a job's log, replacing the record with the same start and name (its
   * end is recorded so); a job run again records its sections again, after the first ones.
   */
  putLogSection(section: LogSectionRecord): Promise<void>;
  /** A job's log sections, in the order they start. */
  readLogSections(jobId: string): Promise<LogSectionRecord[]>;

  /** True the first time a delivery id is seen within the retention period. */
  recordDelivery(deliveryId: string, now?: number): Promise<boolean>;
  /** Whether a delivery id is recorded and within its retention period; records nothing. */
  hasDelivery(deliveryId: string, now?: number): Promise<boolean>;
  /**
   * Forgets a recorded delivery id, so that the same delivery is handled again: for a
   * handling that failed before anything of it reached GitHub, which GitHub's "Redeliver"
   * must then be able to retry.
   */
  forgetDelivery(deliveryId: string): Promise<void>;

  /** Records an image Kozmic committed; recording the same image again replaces it. */
  recordCacheImage(record: CacheImageRecord): Promise<void>;
  getCacheImage(imageId: string): Promise<CacheImageRecord | undefined>;
  /**
   * Takes or renews the lease named `key` for `leaseMs`, unless another owner holds it: one
   * host installs a cache key while the others wait to pull it, one process fires schedules,
   * one planner plans a delivery.
   */
  acquireLease(key: string, owner: string, leaseMs: number, now?: number): Promise<LeaseResult>;
  /** Gives the lease up if `owner` still holds it; otherwise does nothing. */
  releaseLease(key: string, owner: string): Promise<void>;

  /** Records a secret, replacing one of the same repository and name. */
  putSecret(record: SecretRecord): Promise<void>;
  /** True when there was a secret to delete. */
  deleteSecret(repoId: number, name: string): Promise<boolean>;
  /** A repository's secrets, by name. */
  listSecrets(repoId: number): Promise<SecretRecord[]>;
  getRepositoryKey(repoId: number): Promise<RepositoryKeyRecord | undefined>;
  /**
   * Stores a repository's wrapped data key: only where it has none when `replacing` is
   * undefined, else only where the stored one is still `replacing` (a rotation). Throws
   * ConflictError otherwise, so two writers never leave two data keys.
   */
  putRepositoryKey(record: RepositoryKeyRecord, replacing?: string): Promise<void>;
  /** Every repository's wrapped data key, for rotation. */
  listRepositoryKeys(): Promise<RepositoryKeyRecord[]>;

  /**
   * Ends a sign-in session before its cookie expires (logout): `until` (epoch ms) is when it
   * would have expired; the revocation is kept that long.
   */
  revokeSession(sessionId: string, until: number, now?: number): Promise<void>;
  /** True for a session revoked and not yet past its `until`. */
  isSessionRevoked(sessionId: string, now?: number): Promise<boolean>;

  /**
   * Makes `schedules` the repository's schedule entries: an entry kept (same id) keeps its
   * stored `lastTick`, a new one starts from the one given, the others are removed.
   */
  replaceSchedules(repoId: number, schedules: readonly ScheduleRecord[]): Promise<void>;
  /** Every repository's schedule entries. */
  listSchedules(): Promise<ScheduleRecord[]>;
  /**
   * Moves a schedule's `lastTick` forward to `tick`, atomically: false when it is already
   * there or later (another timer fired it) or the entry is gone.
   */
  advanceSchedule(id: string, tick: number): Promise<boolean>;

  putInstallation(installation: InstallationRecord): Promise<void>;
  getInstallation(id: number): Promise<InstallationRecord | undefined>;
  deleteInstallation(id: number): Promise<void>;

  close(): Promise<void>;
}

/** The install cache's records of which images Kozmic committed (runner/cache/cache-images.ts). */
export type CacheImageOperations = Pick<Store, "recordCacheImage" | "getCacheImage">;

/** What keeps repository secrets: sealed values and wrapped data keys. */
export type SecretOperations = Pick<
  Store,
  | "putSecret"
  | "deleteSecret"
  | "listSecrets"
  | "getRepositoryKey"
  | "putRepositoryKey"
  | "listRepositoryKeys"
>;

/** Schedule entries (`schedule:`) and the ticks they fired. */
export type ScheduleOperations = Pick<
  Store,
  "replaceSchedules" | "listSchedules" | "advanceSchedule"
>;
