import { ConflictError } from "../core/errors.js";
import { isFinal, type JobStatus } from "../core/job-state.js";
import { openDatabase } from "./open-database.js";
import { startRetention, type RetentionOptions, type SweepReport } from "./embedded-retention.js";
import { buildExpiresAt } from "./retention-rules.js";
import { decideClaim } from "./decide-claim.js";
import { checkJobChange } from "./check-job-change.js";
import { assertChunkSize } from "./log-chunk-size.js";
import { embeddedLeaseOperations } from "./embedded-leases.js";
import { embeddedSecretOperations } from "./embedded-secrets.js";
import { embeddedSessionOperations } from "./embedded-sessions.js";
import { embeddedScheduleOperations } from "./embedded-schedules.js";
import { embeddedCacheImageOperations } from "./embedded-cache-records.js";
import type {
  BuildRecord,
  ClaimResult,
  InstallationRecord,
  JobRecord,
  JobUpdate,
  LogChunk,
  LogSectionRecord,
  Store,
  SupersedeKey,
} from "./port.js";

export interface EmbeddedStoreOptions {
  dataDir: string;
  /** How long log chunks, and builds with their jobs once ended, are kept. Default 30. */
  logRetentionDays?: number;
  /** Instead of logRetentionDays, in seconds: for tests and benchmarks, which cannot wait days. */
  logRetentionSeconds?: number;
  /** How long a webhook delivery id is remembered. */
  deliveryRetentionSeconds?: number;
  /**
   * The sweep that deletes what expired (embedded-retention.ts); false: no timer, only
   * `sweepExpired` calls.
   */
  retention?: RetentionOptions | false;
}

/** The embedded Store, with the retention sweep callable directly. */
export interface EmbeddedStore extends Store {
  /** Deletes what has expired at `now` (default: the clock) and releases free pages. */
  sweepExpired(now?: number): Promise<SweepReport>;
}

const DAY_S = 86_400;

/** The Store in the same SQLite file as the embedded queue; every change is one transaction. */
export function openEmbeddedStore(options: EmbeddedStoreOptions): EmbeddedStore {
  const db = openDatabase(options.dataDir);
  const logRetentionS = options.logRetentionSeconds ?? (options.logRetentionDays ?? 30) * DAY_S;
  const deliveryRetentionS = options.deliveryRetentionSeconds ?? 7 * DAY_S;
  const q = {
    insertBuild: db.prepare(
      "INSERT INTO builds (id, repo_id, sha, created_at, data, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    buildCreatedAt: db.prepare("SELECT created_at FROM builds WHERE id = ?").pluck(),
    setBuildExpiry: db.prepare("UPDATE builds SET expires_at = ? WHERE id = ?"),
    getBuild: db.prepare("SELECT data FROM builds WHERE id = ?"),
    buildsByCommit: db.prepare(
      "SELECT data FROM builds WHERE repo_id = ? AND sha = ? ORDER BY created_at",
    ),
    listBuilds: db.prepare(
      "SELECT data FROM builds WHERE repo_id = ? AND created_at < ? ORDER BY created_at DESC LIMIT ?",
    ),
    insertJob: db.prepare("INSERT INTO jobs (id, build_id, data) VALUES (?, ?, ?)"),
    getJob: db.prepare("SELECT data FROM jobs WHERE id = ?"),
    putJob: db.prepare("UPDATE jobs SET data = ? WHERE id = ?"),
    listJobs: db.prepare("SELECT data FROM jobs WHERE build_id = ? ORDER BY rowid"),
    appendLog: db.prepare(
      "INSERT OR IGNORE INTO log_chunks (job_id, seq, data, expires_at, at) VALUES (?, ?, ?, ?, ?)",
    ),
    putLogSection: db.prepare(
      "INSERT OR REPLACE INTO log_sections (job_id, name, start_seq, expires_at, data) VALUES (?, ?, ?, ?, ?)",
    ),
    readLogSections: db
      .prepare("SELECT data FROM log_sections WHERE job_id = ? ORDER BY start_seq, rowid")
      .pluck(),
    readLog: db.prepare(
      "SELECT seq, data, expires_at, at FROM log_chunks WHERE job_id = ? AND seq >= ? ORDER BY seq LIMIT ?",
    ),
    getDelivery: db.prepare("SELECT expires_at FROM deliveries WHERE id = ?"),
    putDelivery: db.prepare("INSERT OR REPLACE INTO deliveries (id, expires_at) VALUES (?, ?)"),
    getLatest: db.prepare("SELECT job_id, created_at FROM latest WHERE key = ?"),
    putLatest: db.prepare(
      "INSERT OR REPLACE INTO latest (key, sha, job_id, created_at) VALUES (?, ?, ?, ?)",
    ),
    putInstallation: db.prepare("INSERT OR REPLACE INTO installations (id, data) VALUES (?, ?)"),
    getInstallation: db.prepare("SELECT data FROM installations WHERE id = ?"),
    deleteInstallation: db.prepare("DELETE FROM installations WHERE id = ?"),
    deleteDelivery: db.prepare("DELETE FROM deliveries WHERE id = ?"),
  };

  const readJob = (id: string): JobRecord | undefined => {
    const row = q.getJob.get(id) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as JobRecord) : undefined;
  };
  const writeJob = (job: JobRecord) => q.putJob.run(JSON.stringify(job), job.id);

  const create = db.transaction((build: BuildRecord, jobs: JobRecord[]) => {
    const expiresAt = buildExpiresAt(build.createdAt, jobs, logRetentionS);
    q.insertBuild.run(
      build.id,
      build.repoId,
      build.sha,
      build.createdAt,
      JSON.stringify(build),
      expiresAt,
    );
    for (const job of jobs) q.insertJob.run(job.id, job.buildId, JSON.stringify(job));
  });

  /** Once every job of the build has ended, the build and its jobs expire; see buildExpiresAt. */
  const updateBuildExpiry = (buildId: string) => {
    const createdAt = q.buildCreatedAt.get(buildId) as number | undefined;
    if (createdAt === undefined) return;
    const jobs = (q.listJobs.all(buildId) as { data: string }[]).map(
      (r) => JSON.parse(r.data) as JobRecord,
    );
    q.setBuildExpiry.run(buildExpiresAt(createdAt, jobs, logRetentionS), buildId);
  };

  const change = db.transaction(
    (id: string, from: readonly JobStatus[], fields: Partial<JobUpdate>): JobRecord => {
      const next = checkJobChange(id, readJob(id), from, fields, Date.now());
      writeJob(next);
      if (isFinal(next.status)) updateBuildExpiry(next.buildId);
      return next;
    },
  );

  const claim = db.transaction(
    (id: string, owner: string, leaseMs: number, now: number): ClaimResult => {
      const job = readJob(id);
      if (!job) return { outcome: "missing" };
      const decision = decideClaim(job, owner, leaseMs, now);
      if (decision.write && decision.result.outcome !== "missing") writeJob(decision.result.job);
      return decision.result;
    },
  );

  const renew = db.transaction((id: string, owner: string, leaseMs: number, now: number) => {
    const job = readJob(id);
    if (!job || job.status !== "running" || job.leaseOwner !== owner) {
      throw new ConflictError(
        `job ${id}: ${owner} no longer holds the lease (owner ${job?.leaseOwner ?? "none"}, status ${job?.status ?? "missing"})`,
      );
    }
    const next: JobRecord = { ...job, leaseExpiresAt: now + leaseMs, updatedAt: now };
    writeJob(next);
    return next;
  });

  const cancel = db.transaction((id: string, reason: string): JobRecord | undefined => {
    const job = readJob(id);
    if (!job) return undefined;
    if (job.status === "completed" || job.status === "errored") return job;
    const next: JobRecord = {
      ...job,
      cancelRequested: true,
      message: reason,
      updatedAt: Date.now(),
    };
    writeJob(next);
    return next;
  });

  const latest = db.transaction(
    (key: SupersedeKey, sha: string, jobId: string, createdAt: number): string[] => {
      const k = supersedeKeyString(key);
      const prev = q.getLatest.get(k) as { job_id: string; created_at: number } | undefined;
      if (prev && prev.created_at > createdAt) return [];
      q.putLatest.run(k, sha, jobId, createdAt);
      return prev && prev.job_id !== jobId ? [prev.job_id] : [];
    },
  );

  const delivery = db.transaction((id: string, nowS: number): boolean => {
    const row = q.getDelivery.get(id) as { expires_at: number } | undefined;
    if (row && row.expires_at > nowS) return false;
    q.putDelivery.run(id, nowS + deliveryRetentionS);
    return true;
  });

  const retention = startRetention(
    db,
    options.retention === false ? { automatic: false } : options.retention,
  );

  const secrets = embeddedSecretOperations(db);
  const cacheImages = embeddedCacheImageOperations(db);

  return {
    ...secrets,
    ...embeddedSessionOperations(db),
    ...embeddedScheduleOperations(db),
    ...cacheImages,
    async createBuild(build, jobs) {
      try {
        create.immediate(build, jobs);
      } catch (error) {
        if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
          throw new ConflictError(`build ${build.id} or one of its jobs already exists`, {
            cause: error,
          });
        }
        throw error;
      }
    },
    async getBuild(id) {
      const row = q.getBuild.get(id) as { data: string } | undefined;
      return row ? (JSON.parse(row.data) as BuildRecord) : undefined;
    },
    async findBuildsByCommit(repoId, sha) {
      return (q.buildsByCommit.all(repoId, sha) as { data: string }[]).map(
        (r) => JSON.parse(r.data) as BuildRecord,
      );
    },
    async listBuilds(repoId, opts = {}) {
      const rows = q.listBuilds.all(
        repoId,
        opts.before ?? Number.MAX_SAFE_INTEGER,
        opts.limit ?? 50,
      ) as { data: string }[];
      return rows.map((r) => JSON.parse(r.data) as BuildRecord);
    },
    async getJob(id) {
      return readJob(id);
    },
    async listJobs(buildId) {
      return (q.listJobs.all(buildId) as { data: string }[]).map(
        (r) => JSON.parse(r.data) as JobRecord,
      );
    },
    async transitionJob(id, from, update) {
      return change.immediate(id, from, update);
    },
    async updateJob(id, from, fields) {
      const { status: _ignored, ...rest } = fields as Partial<JobUpdate>;
      return change.immediate(id, from, rest);
    },
    async claimJob(id, owner, leaseMs, now = Date.now()) {
      return claim.immediate(id, owner, leaseMs, now);
    },
    async renewLease(id, owner, leaseMs, now = Date.now()) {
      return renew.immediate(id, owner, leaseMs, now);
    },
    async requestCancel(id, reason) {
      return cancel.immediate(id, reason);
    },
    async recordLatest(key, sha, jobId, createdAt) {
      return latest.immediate(key, sha, jobId, createdAt);
    },
    async appendLog(chunk: LogChunk) {
      assertChunkSize(chunk);
      q.appendLog.run(
        chunk.jobId,
        chunk.seq,
        chunk.data,
        Math.floor(Date.now() / 1000) + logRetentionS,
        chunk.at ?? null,
      );
    },
    async readLog(jobId, fromSeq = 0, limit = 1000) {
      const rows = q.readLog.all(jobId, fromSeq, limit) as {
        seq: number;
        data: string;
        expires_at: number;
        at: number | null;
      }[];
      return rows.map((r) => ({
        jobId,
        seq: r.seq,
        data: r.data,
        expiresAt: r.expires_at,
        ...(r.at !== null ? { at: r.at } : {}),
      }));
    },
    async putLogSection(section) {
      q.putLogSection.run(
        section.jobId,
        section.name,
        section.startSeq,
        Math.floor(Date.now() / 1000) + logRetentionS,
        JSON.stringify(section),
      );
    },
    async readLogSections(jobId) {
      return (q.readLogSections.all(jobId) as string[]).map(
        (data) => JSON.parse(data) as LogSectionRecord,
      );
    },
    async recordDelivery(deliveryId, now = Date.now()) {
      return delivery.immediate(deliveryId, Math.floor(now / 1000));
    },
    async hasDelivery(deliveryId, now = Date.now()) {
      const row = q.getDelivery.get(deliveryId) as { expires_at: number } | undefined;
      return row !== undefined && row.expires_at > Math.floor(now / 1000);
    },
    async forgetDelivery(deliveryId) {
      q.deleteDelivery.run(deliveryId);
    },
    async putInstallation(installation: InstallationRecord) {
      q.putInstallation.run(installation.id, JSON.stringify(installation));
    },
    async getInstallation(id) {
      const row = q.getInstallation.get(id) as { data: string } | undefined;
      return row ? (JSON.parse(row.data) as InstallationRecord) : undefined;
    },
    async deleteInstallation(id) {
      q.deleteInstallation.run(id);
    },
    ...embeddedLeaseOperations(db),
    async sweepExpired(now) {
      return retention.sweep(now);
    },
    async close() {
      retention.stop();
      db.close();
    },
  };
}

export function supersedeKeyString(key: SupersedeKey): string {
  return `${key.repoId}|${key.line}|${key.hook}`;
}
