import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createPublicKey, randomUUID } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseEnv } from "node:util";
import { after, describe, it } from "node:test";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { PLAN_MESSAGES } from "../../src/queue/parse-message-body.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { FakeGitHub } from "../support/fake-github/index.js";
import { attachGitHttp } from "../support/fake-github/git-http.js";
import { createGitRepo } from "../support/git-repos.js";
import { ensureBusyboxImage } from "../support/images.js";
import { kozmicArgv } from "../support/kozmic-cli.js";
import { FIXTURE_COMMIT, FIXTURE_GIT_ORIGIN } from "../support/upgrade-fixture-commit.js";
import { restoreDataDir, upgradeFixtures } from "../support/upgrade-fixtures.js";
import { removeCacheImagesOf, removeContainersOf, RUNNER_IMAGE } from "./runner-harness.js";

// The queued messages a previous release left in kozmic.db, run by this release's
// `kozmic runner` started on nothing but that release's data directory and saved .env
// (GitHub's address aside: the fake's).

/** Forwards the fixtures' clone address to the fake GitHub's port. */
async function forwardGitOrigin(port: number): Promise<Server> {
  const server = createServer((socket) => {
    const upstream = createConnection(port, "127.0.0.1");
    socket.pipe(upstream).pipe(socket);
    const end = () => (socket.destroy(), upstream.destroy());
    socket.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(FIXTURE_GIT_ORIGIN.port, FIXTURE_GIT_ORIGIN.host, resolve);
  });
  return server;
}

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

for (const fixture of upgradeFixtures()) {
  describe(`kozmic runner on the data directory ${fixture.ref} left`, () => {
    it("starts with its .env, runs the queued job and plans the queued delivery", async () => {
      ensureBusyboxImage(RUNNER_IMAGE);
      const dataDir = restoreDataDir(fixture);
      dirs.push(dataDir);
      const saved = parseEnv(readFileSync(join(dataDir, ".env"), "utf8"));
      const appKey = createPublicKey(Buffer.from(saved.PRIVATE_KEY!, "base64").toString());
      const fake = await FakeGitHub.start({
        appPublicKey: appKey.export({ type: "spki", format: "pem" }).toString(),
        appId: Number(saved.APP_ID),
        enterprise: true,
        description: "ghes-3.17",
      });
      const http = attachGitHttp(fake);
      const origin = await forwardGitOrigin(Number(new URL(fake.origin).port));
      fake.addRepository({
        fullName: fixture.repository.fullName,
        installationId: fixture.installationId,
      }).id = fixture.repository.id;
      const sha = createGitRepo(fake, http, fixture.repository.fullName).commit(
        FIXTURE_COMMIT.files,
        { message: FIXTURE_COMMIT.message, date: FIXTURE_COMMIT.date },
      );
      assert.equal(sha, fixture.sha, "the commit the fixture's messages name");

      const name = `upgrade-${randomUUID().slice(0, 8)}`;
      const child = spawn(process.execPath, kozmicArgv(["runner"]), {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          KOZMIC_DATA_DIR: dataDir,
          GHE_HOST: fake.host,
          KOZMIC_RUNNER_NAME: name,
          KOZMIC_RUNNER_CONCURRENCY: "1",
          // A variable the previous release read and this one does not.
          KOZMIC_RUN_SERVER: "off",
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      const store = openEmbeddedStore({ dataDir, retention: false });
      try {
        // The delivery names the commit the fixture's builds are of: planned, it is found
        // built already (one build per commit), as the previous release would have found it.
        const planned = new RegExp(
          `"deliveryId":"${fixture.planDeliveryId}".*"outcome":"already-built".*"msg":"planned build`,
        );
        let job = await store.getJob(fixture.queued.jobId);
        for (let i = 0; i < 600; i++) {
          job = await store.getJob(fixture.queued.jobId);
          if (job?.status === "completed" && planned.test(stderr)) break;
          if (child.exitCode !== null) break;
          await sleep(200);
        }
        assert.equal(job?.status, "completed", stderr);
        assert.equal(job?.conclusion, "success", stderr);
        const log = (await store.readLog(fixture.queued.jobId)).map((c) => c.data).join("");
        assert.match(log, /the upgraded Kozmic ran the queued job/);
        assert.match(log, /hello from the previous release/);
        assert.match(stderr, planned);
        assert.match(stderr, /kozmic: KOZMIC_RUN_SERVER is no longer read/);
        assert.deepEqual(fake.violations, []);
      } finally {
        if (child.exitCode === null) child.kill("SIGTERM");
        await exited;
        removeContainersOf(name);
        removeCacheImagesOf([fixture.repository.id]);
        await store.close();
        origin.close();
        http.close();
        await fake.close();
      }
      const plans = openEmbeddedQueue({ dataDir, name: "plans", kind: PLAN_MESSAGES });
      const jobs = openEmbeddedQueue({ dataDir, name: "jobs" });
      try {
        assert.deepEqual(await plans.receiveDeadLetters(), [], "nothing dead-lettered");
        assert.deepEqual(await jobs.receiveDeadLetters(), []);
        assert.deepEqual(await plans.receive({ visibilitySeconds: 0 }), [], "both were taken");
        assert.deepEqual(await jobs.receive({ visibilitySeconds: 0 }), []);
      } finally {
        await plans.close();
        await jobs.close();
      }
    });
  });
}
