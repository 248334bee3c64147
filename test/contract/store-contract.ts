import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { ConflictError, PermanentError } from "../../src/core/errors.js";
import type { JobMessage } from "../../src/core/job-message.js";
import type { JobRecord, Store } from "../../src/store/port.js";
import { releaseDependents } from "../../src/store/release-dependents.js";
import { aBuild, aJob, aJobMessage } from "../support/job-fixtures.js";
import { checkCacheRecords } from "./cache-records-contract.js";
import { checkSchedules } from "./schedule-contract.js";

export interface StoreContractOptions {
  logRetentionDays: number;
  deliveryRetentionSeconds: number;
}

/** A fresh, empty store per call; closed by the suite. */
export type MakeStore = (options: StoreContractOptions) => Promise<Store>;

const DAY_S = 86_400;

/** The behaviour every Store adapter must have, run unchanged against each of them. */
export function defineStoreContract(name: string, makeStore: MakeStore): void {
  async function withStore(fn: (store: Store) => Promise<void>) {
    const store = await makeStore({ logRetentionDays: 14, deliveryRetentionSeconds: 3600 });
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  }

  describe(`Store contract: ${name}`, () => {
    it("records a build with its jobs and finds them by id, commit and repository", async () => {
      await withStore(async (store) => {
        const older = aBuild({ createdAt: 1000 });
        const newer = aBuild({ createdAt: 2000, sha: "c".repeat(40), pullRequest: 9 });
        const jobs = [aJob(older, { hook: "test" }), aJob(older, { hook: "lint" })];
        await store.createBuild(older, jobs);
        await store.createBuild(newer, [aJob(newer)]);
        assert.deepEqual(await store.getBuild(older.id), older);
        assert.equal(await store.getBuild("no-such-build"), undefined);
        assert.deepEqual(await store.findBuildsByCommit(older.repoId, older.sha), [older]);
        assert.deepEqual(
          (await store.listBuilds(older.repoId)).map((b) => b.id),
          [newer.id, older.id],
        );
        assert.deepEqual(
          (await store.listBuilds(older.repoId, { before: 2000 })).map((b) => b.id),
          [older.id],
        );
        assert.deepEqual(
          (await store.listBuilds(older.repoId, { limit: 1 })).map((b) => b.id),
          [newer.id],
        );
        const listed = await store.listJobs(older.id);
        assert.deepEqual(listed.map((j) => j.id).sort(), jobs.map((j) => j.id).sort());
        assert.deepEqual(await store.getJob(jobs[0]!.id), jobs[0]);
      });
    });

    it("refuses to record a build whose id exists", async () => {
      await withStore(async (store) => {
        const build = aBuild();
        await store.createBuild(build, [aJob(build)]);
        await assert.rejects(store.createBuild(build, []), ConflictError);
      });
    });

    it("applies a transition only from an expected state, and says why otherwise", async () => {
      await withStore(async (store) => {
        const build = aBuild();
        const job = aJob(build);
        await store.createBuild(build, [job]);
        const annotations = [
          {
            level: "failure" as const,
            path: "app.py",
            startLine: 3,
            endLine: 3,
            startColumn: 2,
            endColumn: 2,
            title: "Lint",
            message: "unused\nimport",
          },
        ];
        const done = await store.transitionJob(job.id, ["queued", "running"], {
          status: "completed",
          conclusion: "success",
          exitCode: 0,
          annotations,
        });
        assert.equal(done.status, "completed");
        assert.equal(done.conclusion, "success");
        assert.deepEqual((await store.getJob(job.id))?.annotations, annotations);
        await assert.rejects(
          store.transitionJob(job.id, ["running"], { status: "errored" }),
          (error: Error) => error instanceof ConflictError && /completed/.test(error.message),
        );
        await assert.rejects(
          store.transitionJob("no-such-job", ["queued"], { status: "running" }),
          ConflictError,
        );
        await assert.rejects(
          store.transitionJob(job.id, ["completed"], { status: "running" }),
          /cannot go from completed to running/,
        );
        assert.equal((await store.getJob(job.id))?.status, "completed");
        const updated = await store.updateJob(job.id, ["completed"], { checkRunId: 55 });
        assert.equal(updated.checkRunId, 55);
        await assert.rejects(store.updateJob(job.id, ["queued"], { checkRunId: 1 }), ConflictError);
      });
    });

    it("lets exactly one of many concurrent transitions win", async () => {
      await withStore(async (store) => {
        const build = aBuild();
        const job = aJob(build);
        await store.createBuild(build, [job]);
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, (_, i) =>
            store.transitionJob(job.id, ["queued"], { status: "running", message: `caller ${i}` }),
          ),
        );
        const won = results.filter((r) => r.status === "fulfilled");
        assert.equal(won.length, 1);
        for (const r of results) {
          if (r.status === "rejected") assert.ok(r.reason instanceof ConflictError);
        }
      });
    });

    it("leases: claim, held, renew, expiry and take-over, finished, missing", async () => {
      await withStore(async (store) => {
        const build = aBuild();
        const job = aJob(build);
        await store.createBuild(build, [job]);
        const t0 = Date.now();
        const first = await store.claimJob(job.id, "runner-a", 10_000, t0);
        assert.equal(first.outcome, "claimed");
        assert.ok(first.outcome === "claimed");
        assert.equal(first.job.status, "running");
        assert.equal(first.job.phase, "preparing");
        assert.equal(first.job.leaseOwner, "runner-a");
        assert.equal(first.job.leaseExpiresAt, t0 + 10_000);

        assert.equal((await store.claimJob(job.id, "runner-b", 10_000, t0 + 5000)).outcome, "held");
        assert.equal(
          (await store.claimJob(job.id, "runner-a", 10_000, t0 + 5000)).outcome,
          "claimed",
          "the owner may claim again",
        );
        const renewed = await store.renewLease(job.id, "runner-a", 10_000, t0 + 9000);
        assert.equal(renewed.leaseExpiresAt, t0 + 19_000);
        await assert.rejects(store.renewLease(job.id, "runner-b", 10_000, t0), ConflictError);

        const taken = await store.claimJob(job.id, "runner-b", 10_000, t0 + 20_000);
        assert.equal(taken.outcome, "taken-over");
        assert.ok(taken.outcome === "taken-over");
        assert.equal(taken.previousOwner, "runner-a");
        assert.equal(taken.job.leaseOwner, "runner-b");
        await assert.rejects(store.renewLease(job.id, "runner-a", 10_000, t0), ConflictError);
        assert.equal((await store.getJob(job.id))?.leaseOwner, "runner-b");

        await store.transitionJob(job.id, ["running"], { status: "errored", message: "disk" });
        assert.equal((await store.claimJob(job.id, "runner-c", 10_000)).outcome, "finished");
        assert.equal((await store.claimJob("no-such-job", "runner-c", 10_000)).outcome, "missing");
      });
    });

    it("gives a queued job to exactly one of two concurrent claimers", async () => {
      await withStore(async (store) => {
        for (let round = 0; round < 5; round++) {
          const build = aBuild();
          const job = aJob(build);
          await store.createBuild(build, [job]);
          const now = Date.now();
          const outcomes = await Promise.all([
            store.claimJob(job.id, "runner-a", 60_000, now),
            store.claimJob(job.id, "runner-b", 60_000, now),
          ]);
          assert.deepEqual(outcomes.map((o) => o.outcome).sort(), ["claimed", "held"]);
          const winner = outcomes.find((o) => o.outcome === "claimed");
          assert.ok(winner && winner.outcome === "claimed");
          assert.equal((await store.getJob(job.id))?.leaseOwner, winner.job.leaseOwner);
        }
      });
    });

    it("gives an expired lease to exactly one of two concurrent claimers", async () => {
      await withStore(async (store) => {
        const build = aBuild();
        const job = aJob(build);
        await store.createBuild(build, [job]);
        const t0 = Date.now();
        await store.claimJob(job.id, "runner-dead", 1000, t0);
        const outcomes = await Promise.all([
          store.claimJob(job.id, "runner-a", 60_000, t0 + 2000),
          store.claimJob(job.id, "runner-b", 60_000, t0 + 2000),
        ]);
        assert.deepEqual(outcomes.map((o) => o.outcome).sort(), ["held", "taken-over"]);
      });
    });

    it("flags a cancel request on an unfinished job and leaves a finished one alone", async () => {
      await withStore(async (store) => {
        const build = aBuild();
        const [open, done] = [aJob(build), aJob(build, { status: "completed" })];
        await store.createBuild(build, [open, done]);
        const flagged = await store.requestCancel(open.id, "superseded by bbbbbbb");
        assert.equal(flagged?.cancelRequested, true);
        assert.equal((await store.getJob(open.id))?.cancelRequested, true);
        assert.equal((await store.requestCancel(done.id, "late"))?.cancelRequested, undefined);
        assert.equal(await store.requestCancel("no-such-job", "x"), undefined);
      });
    });

    it("records the newest job per line and returns what it superseded", async () => {
      await withStore(async (store) => {
        const key = { repoId: 7, line: `branch:${randomUUID()}`, hook: "test" };
        assert.deepEqual(await store.recordLatest(key, "a".repeat(40), "job-1", 1000), []);
        assert.deepEqual(await store.recordLatest(key, "b".repeat(40), "job-2", 2000), ["job-1"]);
        assert.deepEqual(
          await store.recordLatest(key, "c".repeat(40), "job-0", 500),
          [],
          "an older commit supersedes nothing",
        );
        assert.deepEqual(await store.recordLatest(key, "d".repeat(40), "job-3", 3000), ["job-2"]);
        const other = { ...key, hook: "lint" };
        assert.deepEqual(await store.recordLatest(other, "d".repeat(40), "job-4", 3000), []);
      });
    });

    it("keeps a job's log sections beside its log: replaced by start and name, read in order of start", async () => {
      await withStore(async (store) => {
        const jobId = `job-${randomUUID()}`;
        await store.appendLog({ jobId, seq: 0, data: "==> preparing\n" });
        await store.putLogSection({
          jobId,
          name: "build",
          title: "Build",
          startSeq: 2,
          startedAt: 3000,
        });
        const preparing = {
          jobId,
          name: "preparing" as const,
          title: "Preparing: busybox",
          startSeq: 0,
          startedAt: 1000,
          endSeq: 1,
          endedAt: 2000,
          conclusion: "success" as const,
        };
        await store.putLogSection(preparing);
        await store.putLogSection({
          jobId: `job-${randomUUID()}`,
          name: "build",
          title: "Other",
          startSeq: 0,
          startedAt: 1,
        });
        const ended = {
          ...preparing,
          name: "build" as const,
          title: "Build",
          startSeq: 2,
          startedAt: 3000,
          endSeq: 4,
          endedAt: 5000,
          conclusion: "failure" as const,
        };
        await store.putLogSection(ended);
        // The job run again (taken over): its sections again, after the first attempt's.
        const again = { ...preparing, startSeq: 12, startedAt: 9000, endSeq: 13 };
        await store.putLogSection(again);
        assert.deepEqual(await store.readLogSections(jobId), [preparing, ended, again]);
        assert.deepEqual(await store.readLogSections(`job-${randomUUID()}`), []);
        assert.deepEqual(
          (await store.readLog(jobId)).map((c) => c.data),
          ["==> preparing\n"],
          "sections are not chunks of the log",
        );
      });
    });

    it("keeps log chunks in order, reads ranges, ignores replayed chunks and sets expiry", async () => {
      await withStore(async (store) => {
        const jobId = `job-${randomUUID()}`;
        const otherJob = `job-${randomUUID()}`;
        await store.appendLog({ jobId: otherJob, seq: 0, data: "other" });
        for (const seq of [2, 0, 1, 3, 4])
          await store.appendLog({ jobId, seq, data: `line ${seq}\n` });
        await store.appendLog({ jobId, seq: 1, data: "replayed, must be ignored" });
        const all = await store.readLog(jobId);
        assert.deepEqual(
          all.map((c) => [c.seq, c.data]),
          [0, 1, 2, 3, 4].map((s) => [s, `line ${s}\n`]),
        );
        const nowS = Date.now() / 1000;
        for (const chunk of all) {
          assert.ok(chunk.expiresAt, "expiry set");
          assert.ok(Math.abs(chunk.expiresAt - (nowS + 14 * DAY_S)) < 120, "14 days out");
        }
        assert.deepEqual(
          (await store.readLog(jobId, 2, 2)).map((c) => c.seq),
          [2, 3],
        );
        assert.deepEqual(await store.readLog(jobId, 5), []);
        const big = "x".repeat(64 * 1024);
        await store.appendLog({ jobId, seq: 5, data: big });
        assert.equal((await store.readLog(jobId, 5))[0]?.data, big);
        await assert.rejects(
          store.appendLog({ jobId, seq: 6, data: `${big}!` }),
          (error: Error) =>
            error instanceof PermanentError && /at most 65536 bytes/.test(error.message),
        );
        assert.deepEqual(await store.readLog(jobId, 6), [], "nothing of a refused chunk is kept");
      });
    });

    it("keeps when a chunk's output was written, for the log page's timestamps", async () => {
      await withStore(async (store) => {
        const jobId = `job-${randomUUID()}`;
        await store.appendLog({ jobId, seq: 0, data: "timed\n", at: 1_764_500_000_123 });
        await store.appendLog({ jobId, seq: 1, data: "untimed\n" });
        const [timed, untimed] = await store.readLog(jobId);
        assert.equal(timed?.at, 1_764_500_000_123);
        assert.equal(untimed && "at" in untimed, false);
      });
    });

    it("de-duplicates webhook deliveries until their retention passes", async () => {
      await withStore(async (store) => {
        const id = randomUUID();
        const t0 = Date.now();
        assert.equal(await store.recordDelivery(id, t0), true);
        assert.equal(await store.recordDelivery(id, t0 + 1000), false);
        assert.equal(await store.recordDelivery(id, t0 + 3599_000), false);
        assert.equal(await store.recordDelivery(id, t0 + 3601_000), true, "expired");
        const ids = Array.from({ length: 2 }, () => randomUUID());
        const firsts = await Promise.all([
          store.recordDelivery(ids[0]!, t0),
          store.recordDelivery(ids[0]!, t0),
        ]);
        assert.deepEqual(firsts.sort(), [false, true]);
      });
    });

    it("says whether a delivery is recorded, without recording it", async () => {
      await withStore(async (store) => {
        const id = randomUUID();
        const t0 = Date.now();
        assert.equal(await store.hasDelivery(id, t0), false);
        assert.equal(await store.hasDelivery(id, t0), false, "asking records nothing");
        assert.equal(await store.recordDelivery(id, t0), true);
        assert.equal(await store.hasDelivery(id, t0 + 1000), true);
        assert.equal(await store.hasDelivery(id, t0 + 3601_000), false, "expired");
        await store.forgetDelivery(id);
        assert.equal(await store.hasDelivery(id, t0 + 1000), false, "forgotten");
      });
    });

    it("forgets a delivery on request, so that it is handled again", async () => {
      await withStore(async (store) => {
        const id = randomUUID();
        const other = randomUUID();
        assert.equal(await store.recordDelivery(id), true);
        assert.equal(await store.recordDelivery(other), true);
        await store.forgetDelivery(id);
        await store.forgetDelivery(randomUUID()); // never recorded: nothing to do
        assert.equal(await store.recordDelivery(id), true, "recorded anew after forgetting");
        assert.equal(await store.recordDelivery(other), false, "others are kept");
      });
    });

    it("stores, replaces and deletes installations", async () => {
      await withStore(async (store) => {
        const id = Math.floor(Math.random() * 1e9) + 1;
        const installation = {
          id,
          account: "octo",
          repositories: [{ id: 7, fullName: "octo/widgets", private: true }],
          updatedAt: 1,
        };
        await store.putInstallation(installation);
        assert.deepEqual(await store.getInstallation(id), installation);
        await store.putInstallation({ id, account: "octo-renamed", updatedAt: 2 });
        assert.equal((await store.getInstallation(id))?.account, "octo-renamed");
        await store.deleteInstallation(id);
        assert.equal(await store.getInstallation(id), undefined);
      });
    });

    it("records the cache images Kozmic committed and knows no others", async () => {
      await withStore((store) => checkCacheRecords(store));
    });

    it("keeps schedule entries per repository and fires each tick once", async () => {
      await withStore((store) => checkSchedules(store));
    });

    it("leases a cache key to one fleet host at a time, renewed by it, taken over once expired", async () => {
      await withStore(async (store) => {
        const key = randomUUID().replace(/-/g, "").repeat(2);
        const other = randomUUID().replace(/-/g, "").repeat(2);
        const t = 1_700_000_000_000;
        assert.deepEqual(await store.acquireLease(key, "host-a", 60_000, t), {
          acquired: true,
          expiresAt: t + 60_000,
        });
        // Host B waits while A holds it; another key is free.
        assert.deepEqual(await store.acquireLease(key, "host-b", 60_000, t + 1_000), {
          acquired: false,
          owner: "host-a",
          expiresAt: t + 60_000,
        });
        assert.equal((await store.acquireLease(other, "host-b", 60_000, t)).acquired, true);
        // A renews; B still cannot take it before the renewed expiry.
        assert.deepEqual(await store.acquireLease(key, "host-a", 60_000, t + 30_000), {
          acquired: true,
          expiresAt: t + 90_000,
        });
        assert.equal((await store.acquireLease(key, "host-b", 60_000, t + 70_000)).acquired, false);
        // A died: once its lease expires, B takes it, and A's release then changes nothing.
        assert.deepEqual(await store.acquireLease(key, "host-b", 60_000, t + 90_000), {
          acquired: true,
          expiresAt: t + 150_000,
        });
        await store.releaseLease(key, "host-a");
        assert.deepEqual(await store.acquireLease(key, "host-c", 60_000, t + 91_000), {
          acquired: false,
          owner: "host-b",
          expiresAt: t + 150_000,
        });
        // B releases: the next host takes it at once.
        await store.releaseLease(key, "host-b");
        assert.equal((await store.acquireLease(key, "host-c", 60_000, t + 92_000)).acquired, true);
      });
    });

    it("keeps a repository's secrets by name, replaced and deleted, apart from other repositories'", async () => {
      await withStore(async (store) => {
        const repoId = 1_000_000 + Math.floor(Math.random() * 1_000_000);
        const secret = (name: string, sealed: string, updatedAt = 1) => ({
          repoId,
          name,
          sealed,
          updatedBy: "octocat",
          updatedAt,
        });
        assert.deepEqual(await store.listSecrets(repoId), []);
        await store.putSecret(secret("PYPI_TOKEN", "v1:a"));
        await store.putSecret(secret("DEPLOY_KEY", "v1:b"));
        await store.putSecret({ ...secret("PYPI_TOKEN", "v1:other"), repoId: repoId + 1 });
        await store.putSecret(secret("PYPI_TOKEN", "v1:c", 2));
        assert.deepEqual(await store.listSecrets(repoId), [
          secret("DEPLOY_KEY", "v1:b"),
          secret("PYPI_TOKEN", "v1:c", 2),
        ]);
        assert.equal(await store.deleteSecret(repoId, "DEPLOY_KEY"), true);
        assert.equal(await store.deleteSecret(repoId, "DEPLOY_KEY"), false);
        assert.deepEqual(
          (await store.listSecrets(repoId)).map((s) => s.name),
          ["PYPI_TOKEN"],
        );
        assert.equal((await store.listSecrets(repoId + 1))[0]?.sealed, "v1:other");
      });
    });

    it("stores a repository's data key once, and replaces it only from the key it read", async () => {
      await withStore(async (store) => {
        const repoId = 2_000_000 + Math.floor(Math.random() * 1_000_000);
        const key = (wrappedKey: string) => ({
          repoId,
          wrappedKey,
          wrappedBy: "local:abc",
          updatedAt: 5,
        });
        assert.equal(await store.getRepositoryKey(repoId), undefined);
        await store.putRepositoryKey(key("first"));
        await assert.rejects(store.putRepositoryKey(key("second")), ConflictError);
        assert.deepEqual(await store.getRepositoryKey(repoId), key("first"));
        await assert.rejects(store.putRepositoryKey(key("third"), "stale"), ConflictError);
        await store.putRepositoryKey({ ...key("rotated"), wrappedBy: "local:def" }, "first");
        assert.equal((await store.getRepositoryKey(repoId))?.wrappedBy, "local:def");
        const listed = await store.listRepositoryKeys();
        assert.deepEqual(
          listed.filter((k) => k.repoId === repoId),
          [{ ...key("rotated"), wrappedBy: "local:def" }],
        );
      });
    });

    it("remembers a revoked session until it would have expired, and only that session", async () => {
      await withStore(async (store) => {
        const id = `session-${Math.random().toString(36).slice(2)}`;
        const now = 1_800_000_000_000;
        assert.equal(await store.isSessionRevoked(id, now), false);
        await store.revokeSession(id, now + 60_000, now);
        assert.equal(await store.isSessionRevoked(id, now), true);
        assert.equal(await store.isSessionRevoked(`${id}-other`, now), false);
        assert.equal(await store.isSessionRevoked(id, now + 59_999), true);
        assert.equal(await store.isSessionRevoked(id, now + 60_000), false, "past its expiry");
      });
    });

    /** A build of lint and test (running) and deploy waiting for both; notify waiting for deploy. */
    async function buildWithNeeds(store: Store) {
      const build = aBuild();
      const lint = aJob(build, { hook: "lint", status: "running" });
      const test = aJob(build, { hook: "test", status: "running" });
      const deploy = aJob(build, {
        hook: "deploy",
        status: "waiting",
        checkRunId: 31,
        waitsFor: ["lint", "test"],
      });
      const notify = aJob(build, { hook: "notify", status: "waiting", waitsFor: ["deploy"] });
      deploy.needs = [lint.id, test.id];
      deploy.waitingMessage = aJobMessage({ jobId: deploy.id, buildId: build.id });
      notify.needs = [deploy.id];
      notify.waitingMessage = aJobMessage({ jobId: notify.id, buildId: build.id });
      lint.dependents = [deploy.id];
      test.dependents = [deploy.id];
      deploy.dependents = [notify.id];
      await store.createBuild(build, [lint, test, deploy, notify]);
      return { lint, test, deploy, notify };
    }

    const recordingIo = () => {
      const sent: JobMessage[] = [];
      const skipped: string[] = [];
      return {
        sent,
        skipped,
        io: {
          send: async (message: JobMessage) => void sent.push(message),
          reportSkipped: async (job: JobRecord) => void skipped.push(`${job.hook}: ${job.message}`),
          now: Date.now,
        },
      };
    };

    it("releases a job waiting for two jobs that end at once exactly once, whichever finisher sees it", async () => {
      await withStore(async (store) => {
        for (let round = 0; round < 4; round++) {
          const { lint, test, deploy } = await buildWithNeeds(store);
          const { sent, io } = recordingIo();
          const finish = async (job: JobRecord) => {
            const ended = await store.transitionJob(job.id, ["running"], {
              status: "completed",
              conclusion: "success",
            });
            return releaseDependents(store, ended, io);
          };
          await Promise.all([finish(lint), finish(test)]);
          assert.equal(sent.length, 1, `round ${round}: one message`);
          assert.equal(sent[0]!.jobId, deploy.id);
          assert.equal(sent[0]!.checkRunId, 31, "sent with the check run made at planning");
          const released = await store.getJob(deploy.id);
          assert.equal(released?.status, "queued");
          assert.ok([lint.id, test.id].includes(released!.releasedBy!));
          assert.ok(released?.enqueuedAt !== undefined);
        }
      });
    });

    it("skips the dependents of a failed job, transitively, each reported once, resumed after a crash", async () => {
      await withStore(async (store) => {
        const { lint, test, deploy, notify } = await buildWithNeeds(store);
        const ended = await store.transitionJob(test.id, ["running"], {
          status: "completed",
          conclusion: "failure",
        });
        // The finisher dies after the skips were written, before GitHub heard of them.
        const dying = recordingIo();
        dying.io.reportSkipped = async () => {
          throw new Error("killed");
        };
        await assert.rejects(releaseDependents(store, ended, dying.io), /killed/);
        assert.equal((await store.getJob(deploy.id))?.status, "completed");
        // lint's end finds deploy decided by test's (not its to report), and notify, which the
        // dying finisher never reached, still waiting: that one it decides and reports.
        const other = recordingIo();
        const lintEnded = await store.transitionJob(lint.id, ["running"], {
          status: "completed",
          conclusion: "success",
        });
        await releaseDependents(store, lintEnded, other.io);
        assert.deepEqual(other.skipped, ["notify: skipped: deploy was skipped"]);
        // Whoever settles test's end again reports deploy's skip, once.
        const resumed = recordingIo();
        await releaseDependents(store, ended, resumed.io);
        assert.deepEqual(resumed.skipped, ["deploy: skipped: test failed"]);
        assert.deepEqual(resumed.sent, []);
        const again = recordingIo();
        assert.deepEqual(await releaseDependents(store, ended, again.io), []);
        for (const id of [deploy.id, notify.id]) {
          const job = await store.getJob(id);
          assert.equal(job?.conclusion, "skipped");
          assert.ok(job?.reportedAt !== undefined);
        }
      });
    });

    it("a finisher that died between the release and the sending sends it when resumed, and only it", async () => {
      await withStore(async (store) => {
        const { lint, test, deploy } = await buildWithNeeds(store);
        const lintEnded = await store.transitionJob(lint.id, ["running"], {
          status: "completed",
          conclusion: "success",
        });
        assert.deepEqual(await releaseDependents(store, lintEnded, recordingIo().io), []);
        assert.equal((await store.getJob(deploy.id))?.status, "waiting", "test has not ended");
        const ended = await store.transitionJob(test.id, ["running"], {
          status: "completed",
          conclusion: "success",
        });
        const dying = recordingIo();
        dying.io.send = async () => {
          throw new Error("killed");
        };
        await assert.rejects(releaseDependents(store, ended, dying.io), /killed/);
        assert.equal((await store.getJob(deploy.id))?.status, "queued");
        const other = recordingIo();
        await releaseDependents(store, lintEnded, other.io);
        assert.deepEqual(other.sent, [], "not lint's release to send");
        const resumed = recordingIo();
        await releaseDependents(store, ended, resumed.io);
        assert.deepEqual(
          resumed.sent.map((m) => m.jobId),
          [deploy.id],
        );
        const again = recordingIo();
        await releaseDependents(store, ended, again.io);
        assert.deepEqual(again.sent, []);
      });
    });
  });
}
