import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { PLAN_MESSAGES } from "../../src/queue/parse-message-body.js";
import { SCHEMA_VERSION } from "../../src/store/embedded-schema.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import {
  assertStoreKeepsEverything,
  restoreDataDir,
  savedSettings,
  upgradeFixtures,
} from "../support/upgrade-fixtures.js";
import { startWebHarness } from "./web-harness.js";

// What each previous release left behind (test/fixtures/upgrade/<ref>/, written by that
// release's code: scripts/make-upgrade-fixture.sh), opened by this code: nothing is lost.

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

for (const fixture of upgradeFixtures()) {
  describe(`the embedded store, queues and .env of ${fixture.ref}, opened by this code`, () => {
    it("keeps every build, job, log, section, secret and cache record; the job's page shows its log", async () => {
      const dataDir = restoreDataDir(fixture);
      dirs.push(dataDir);
      const { settings } = savedSettings(dataDir);
      assert.equal(settings.storage.store.kind, "embedded");
      const store = openEmbeddedStore({ dataDir, retention: false });
      const web = await startWebHarness({ store });
      try {
        await assertStoreKeepsEverything(fixture, store, settings);

        const page = await fetch(`${web.url}/jobs/${fixture.finished.jobId}`);
        assert.equal(page.status, 200);
        const html = await page.text();
        assert.match(html, /installing the widgets/);
        assert.match(html, /build passed/);
        for (const section of fixture.finished.sections)
          assert.match(html, new RegExp(section.title));
      } finally {
        await web.close();
      }
      assert.ok(
        readdirSync(dataDir).some((f) => /^kozmic\.db\.v\d+-.*\.bak$/.test(f)),
        "the file as the release left it was kept",
      );
    });

    it("accepts the queued job and planning messages", async () => {
      const dataDir = restoreDataDir(fixture);
      dirs.push(dataDir);
      const lines: string[] = [];
      const jobs = openEmbeddedQueue({ dataDir, name: "jobs", log: (l) => lines.push(l) });
      const plans = openEmbeddedQueue({
        dataDir,
        name: "plans",
        kind: PLAN_MESSAGES,
        log: (l) => lines.push(l),
      });
      try {
        const [job, ...moreJobs] = await jobs.receive({ maxMessages: 10 });
        assert.deepEqual(moreJobs, []);
        assert.deepEqual(
          job?.body,
          JSON.parse(readFileSync(join(fixture.dir, "job-message.json"), "utf8")),
        );
        const [plan] = await plans.receive({ maxMessages: 10 });
        assert.equal(plan?.body.deliveryId, fixture.planDeliveryId);
        assert.deepEqual(await jobs.receiveDeadLetters(), []);
        assert.deepEqual(await plans.receiveDeadLetters(), []);
        assert.deepEqual(lines, [], "nothing dead-lettered");
      } finally {
        await jobs.close();
        await plans.close();
      }
    });

    it("is at the current schema version once opened", async () => {
      const dataDir = restoreDataDir(fixture);
      dirs.push(dataDir);
      await openEmbeddedStore({ dataDir, retention: false }).close();
      const db = new Database(join(dataDir, "kozmic.db"), { readonly: true });
      try {
        assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
      } finally {
        db.close();
      }
    });
  });
}
