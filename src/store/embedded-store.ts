import { ConflictError } from "../core/errors.js";
import { isFinal, type JobStatus } from "../core/job-state.js";
import { openDatabase } from "./open-database.js";
import { startRetention, type RetentionOptions, type SweepReport } from "./embedded-retention.js";
import { buildExpiresAt } from "./retention-rules.js";
import {
  assertChunkSize,
  cancelRequested,
  checkJobChange,
  decideClaim,
  renewedLease,
} from "./store-rules.js";
import { embeddedCacheImageOperations } from "./embedded-cache-records.js";
import type {
  BuildRecord,
  ClaimResult,
  InstallationRecord,
  JobRecord,
  JobUpdate,
  LeaseResult,
  LogChunk,
  LogSectionRecord,
  RepositoryKeyRecord,
  ScheduleRecord,
  SecretRecord,
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

/** The record a row's `data` column holds; undefined for no row (statements that pluck it). */
const parseRow = <T>(data: unknown): T | undefined =>
  data === undefined ? undefined : (JSON.parse(data as string) as T);
const parseRows = <T>(rows: unknown[]): T[] => rows.map((data) => JSON.parse(data as string) as T);

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
    getBuild: db.prepare("SELECT data FROM builds WHERE id = ?").pluck(),
    buildsByCommit: db
      .prepare("SELECT data FROM builds WHERE repo_id = ? AND sha = ? ORDER BY created_at")
      .pluck(),
    listBuilds: db
      .prepare(
        "SELECT data FROM builds WHERE repo_id = ? AND created_at < ? ORDER BY created_at DESC LIMIT ?",
      )
      .pluck(),
    insertJob: db.prepare("INSERT INTO jobs (id, build_id, data) VALUES (?, ?, ?)"),
    getJob: db.prepare("SELECT data FROM jobs WHERE id = ?").pluck(),
    putJob: db.prepare("UPDATE jobs SET data = ? WHERE id = ?"),
    listJobs: db.prepare("SELECT data FROM jobs WHERE build_id = ? ORDER BY rowid").pluck(),
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
    getInstallation: db.prepare("SELECT data FROM installations WHERE id = ?").pluck(),
    deleteInstallation: db.prepare("DELETE FROM installations WHERE id = ?"),
    deleteDelivery: db.prepare("DELETE FROM deliveries WHERE id = ?"),
    // Named leases: cache keys being installed, the schedule timer, deliveries being planned.
    getLease: db.prepare("SELECT owner, expires_at FROM cache_leases WHERE key = ?"),
    putLease: db.prepare(
      "INSERT OR REPLACE INTO cache_leases (key, owner, expires_at) VALUES (?, ?, ?)",
    ),
    releaseLease: db.prepare("DELETE FROM cache_leases WHERE key = ? AND owner = ?"),
    putSecret: db.prepare("INSERT OR REPLACE INTO secrets (repo_id, name, data) VALUES (?, ?, ?)"),
    deleteSecret: db.prepare("DELETE FROM secrets WHERE repo_id = ? AND name = ?"),
    listSecrets: db.prepare("SELECT data FROM secrets WHERE repo_id = ? ORDER BY name").pluck(),
    getKey: db.prepare("SELECT data FROM repository_keys WHERE repo_id = ?").pluck(),
    insertKey: db.prepare(
      "INSERT OR IGNORE INTO repository_keys (repo_id, wrapped_key, data) VALUES (?, ?, ?)",
    ),
    replaceKey: db.prepare(
      "UPDATE repository_keys SET wrapped_key = ?, data = ? WHERE repo_id = ? AND wrapped_key = ?",
    ),
    listKeys: db.prepare("SELECT data FROM repository_keys ORDER BY repo_id").pluck(),
    revokeSession: db.prepare(
      "INSERT OR REPLACE INTO revoked_sessions (id, expires_at) VALUES (?, max(?, coalesce((SELECT expires_at FROM revoked_sessions WHERE id = ?), 0)))",
    ),
    forgetExpiredSessions: db.prepare("DELETE FROM revoked_sessions WHERE expires_at <= ?"),
    isRevoked: db.prepare("SELECT 1 FROM revoked_sessions WHERE id = ? AND expires_at > ?").pluck(),
    // `last_tick` beside the schedule's record, for advanceSchedule's conditional update.
    schedulesOf: db.prepare("SELECT id FROM schedules WHERE repo_id = ?").pluck(),
    upsertSchedule: db.prepare(
      "INSERT INTO schedules (id, repo_id, last_tick, data) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
    ),
    removeSchedule: db.prepare("DELETE FROM schedules WHERE id = ?"),
    listSchedules: db.prepare("SELECT last_tick, data FROM schedules ORDER BY repo_id, id"),
    advanceSchedule: db.prepare(
      "UPDATE schedules SET last_tick = ? WHERE id = ? AND last_tick < ?",
    ),
  };

  const readJob = (id: string) => parseRow<JobRecord>(q.getJob.get(id));
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
    const jobs = parseRows<JobRecord>(q.listJobs.all(buildId));
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
    const next = renewedLease(id, readJob(id), owner, leaseMs, now);
    writeJob(next);
    return next;
  });

  const cancel = db.transaction((id: string, reason: string): JobRecord | undefined => {
    const job = readJob(id);
    const next = job && cancelRequested(job, reason);
    if (next) writeJob(next);
    return next ?? job;
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

  const lease = db.transaction(
    (key: string, owner: string, leaseMs: number, now: number): LeaseResult => {
      const row = q.getLease.get(key) as { owner: string; expires_at: number } | undefined;
      if (row && row.owner !== owner && row.expires_at > now)
        return { acquired: false, owner: row.owner, expiresAt: row.expires_at };
      q.putLease.run(key, owner, now + leaseMs);
      return { acquired: true, expiresAt: now + leaseMs };
    },
  );

  const replaceSchedules = db.transaction(
    (repoId: number, schedules: readonly ScheduleRecord[]) => {
      const kept = new Set(schedules.map((s) => s.id));
      for (const id of q.schedulesOf.all(repoId) as string[]) {
        if (!kept.has(id)) q.removeSchedule.run(id);
      }
      for (const schedule of schedules) {
        const { lastTick, ...data } = schedule;
        q.upsertSchedule.run(schedule.id, repoId, lastTick, JSON.stringify(data));
      }
    },
  );

  const retention = startRetention(
    db,
    options.retention === false ? { automatic: false } : options.retention,
  );

  return {
    ...embeddedCacheImageOperations(db),
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
      return parseRow<BuildRecord>(q.getBuild.get(id));
    },
    async findBuildsByCommit(repoId, sha) {
      return parseRows<BuildRecord>(q.buildsByCommit.all(repoId, sha));
    },
    async listBuilds(repoId, opts = {}) {
      const before = opts.before ?? Number.MAX_SAFE_INTEGER;
      return parseRows<BuildRecord>(q.listBuilds.all(repoId, before, opts.limit ?? 50));
    },
    async getJob(id) {
      return readJob(id);
    },
    async listJobs(buildId) {
      return parseRows<JobRecord>(q.listJobs.all(buildId));
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
      return parseRows<LogSectionRecord>(q.readLogSections.all(jobId));
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
      return parseRow<InstallationRecord>(q.getInstallation.get(id));
    },
    async deleteInstallation(id) {
      q.deleteInstallation.run(id);
    },
    async acquireLease(key, owner, leaseMs, now = Date.now()) {
      return lease.immediate(key, owner, leaseMs, now);
    },
    async releaseLease(key, owner) {
      q.releaseLease.run(key, owner);
    },
    async putSecret(record) {
      q.putSecret.run(record.repoId, record.name, JSON.stringify(record));
    },
    async deleteSecret(repoId, name) {
      return q.deleteSecret.run(repoId, name).changes > 0;
    },
    async listSecrets(repoId) {
      return parseRows<SecretRecord>(q.listSecrets.all(repoId));
    },
    async getRepositoryKey(repoId) {
      return parseRow<RepositoryKeyRecord>(q.getKey.get(repoId));
    },
    async putRepositoryKey(record, replacing) {
      const data = JSON.stringify(record);
      const changed =
        replacing === undefined
          ? q.insertKey.run(record.repoId, record.wrappedKey, data).changes
          : q.replaceKey.run(record.wrappedKey, data, record.repoId, replacing).changes;
      if (changed === 0) {
        throw new ConflictError(
          `repository ${record.repoId}: its data key changed meanwhile (another writer)`,
        );
      }
    },
    async listRepositoryKeys() {
      return parseRows<RepositoryKeyRecord>(q.listKeys.all());
    },
    async revokeSession(sessionId, until, now = Date.now()) {
      // Revocations are rare (a logout each): the expired ones go on the next.
      q.forgetExpiredSessions.run(now);
      q.revokeSession.run(sessionId, until, sessionId);
    },
    async isSessionRevoked(sessionId, now = Date.now()) {
      return q.isRevoked.get(sessionId, now) !== undefined;
    },
    async replaceSchedules(repoId, schedules) {
      replaceSchedules.immediate(repoId, schedules);
    },
    async listSchedules() {
      return (q.listSchedules.all() as { last_tick: number; data: string }[]).map((row) => ({
        ...(JSON.parse(row.data) as Omit<ScheduleRecord, "lastTick">),
        lastTick: row.last_tick,
      }));
    },
    async advanceSchedule(id, tick) {
      return q.advanceSchedule.run(tick, id, tick).changes === 1;
    },
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
