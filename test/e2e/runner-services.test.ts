import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { linesOf, releaseBuilds, RunnerHarness } from "./runner-harness.js";
import { ensureMariadbImage, MARIADB_IMAGE } from "../support/mariadb-image.js";

/** Container ids, or network names, carrying a label. */
const containersWith = (label: string) =>
  execFileSync("docker", ["ps", "-aq", "--filter", `label=${label}`], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
const networksWith = (label: string) =>
  execFileSync("docker", ["network", "ls", "-q", "--filter", `label=${label}`], {
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);

/** True once nothing of the job is left: no container, no network. */
const jobGone = (jobId: string) =>
  containersWith(`kozmic.job=${jobId}`).length === 0 &&
  networksWith(`kozmic.job=${jobId}`).length === 0
    ? true
    : undefined;

/**
 * A project that keeps its data in MySQL, as CI users now write it: the database a service
 * container beside the build (MariaDB from Debian's packages standing in for `mariadb:11`),
 * reached at its name, the build waiting for its health check.
 */
const MYSQL_PROJECT = (build: string) => `hooks:
  - name: test
    image: ${MARIADB_IMAGE}
    build: |
${build
  .split("\n")
  .map((line) => `      ${line}`)
  .join("\n")}
    services:
      db:
        image: ${MARIADB_IMAGE}
        env:
          MARIADB_ROOT_PASSWORD: root
          MARIADB_DATABASE: app
          MARIADB_USER: app
          MARIADB_PASSWORD: app-secret
        health: mysqladmin ping
`;
const QUERIES = [
  `mariadb -h db -u app -papp-secret app -e "CREATE TABLE greetings (text VARCHAR(40)); INSERT INTO greetings VALUES ('hello from mariadb')"`,
  `mariadb -h db -u app -papp-secret app -N -e "SELECT text FROM greetings"`,
].join("\n");

// MariaDB starts three times, and the killed runner's job waits out its lease (6 s); the
// build of the job killed mid-build waits for the test to release it.
describe("service containers through the app and a real runner", () => {
  let h: RunnerHarness;
  before(async () => {
    ensureMariadbImage();
    h = await RunnerHarness.start();
  });
  after(async () => {
    assert.deepEqual(h.fake.violations, []);
    await h.stop();
    // What a failed test left: the harness removes the runners' containers, not networks.
    for (const name of [`services-${h.nonce}`, `services-crashy-${h.nonce}`])
      for (const network of networksWith(`kozmic.runner=${name}`))
        execFileSync("docker", ["network", "rm", network], { stdio: "ignore" });
  });

  const onlyJob = async (sha: string, repoId: number) => {
    const [build] = await h.store.findBuildsByCommit(repoId, sha);
    const [job] = await h.store.listJobs(build!.id);
    return job!;
  };

  it("the MySQL example with a MariaDB service is green; its service and network are gone after", async () => {
    const runner = h.startRunner({ name: `services-${h.nonce}` });
    const { git, target } = h.repository();
    const sha = git.commit({ ".github/kozmic.yml": MYSQL_PROJECT(QUERIES) });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    const job = await onlyJob(sha, target.id);
    const log = await h.logOf(job.id);
    assert.equal(run.conclusion, "success", log);
    assert.match(log, /^hello from mariadb$/m);
    assert.match(log, /==> service db: healthy after \d+\.\ds/);
    assert.match(log, /==> output of service db\n[\s\S]*mariadbd: ready for connections/);
    const sections = (await h.store.readLogSections(job.id)).map((s) => `${s.name} ${s.title}`);
    assert.deepEqual(sections, [
      "preparing Preparing: " + MARIADB_IMAGE,
      "services Services: db",
      "build Build",
      "services Services' output",
    ]);
    await h.waitFor("the job's service and network to be removed", () => jobGone(job.id));
    await runner.stop();
  });

  it("a runner SIGKILLed mid-build: its next start removes the service and the network", async () => {
    const name = `services-crashy-${h.nonce}`;
    const first = h.spawnRunner({ name, leaseMs: 6000, heartbeatMs: 1000 });
    const { git, target } = h.repository();
    const sha = git.commit({
      // The build waits to be released: the kill lands mid-build whatever the load.
      ".github/kozmic.yml": MYSQL_PROJECT(
        `echo build-started\nuntil [ -e /tmp/go ]; do sleep 0.1; done\n${QUERIES}`,
      ),
    });
    await h.push(target, sha);
    const job = await onlyJob(sha, target.id);
    await h.waitFor(
      "the build to start in the first runner",
      async () => (linesOf(await h.logOf(job.id), "build-started") === 1 ? true : undefined),
      600_000,
    );
    first.child.kill("SIGKILL");
    await first.exited;
    const orphans = containersWith(`kozmic.runner=${name}`);
    const orphanNetworks = networksWith(`kozmic.runner=${name}`);
    assert.equal(orphans.length, 2, "the killed runner left its build and service containers");
    assert.equal(orphanNetworks.length, 1, "and the job's network");

    const second = h.startRunner({ name, leaseMs: 6000, heartbeatMs: 1000 });
    await h.waitFor("the runner's start to remove them", () =>
      containersWith(`kozmic.runner=${name}`).every((id) => !orphans.includes(id)) &&
      networksWith(`kozmic.runner=${name}`).every((id) => !orphanNetworks.includes(id))
        ? true
        : undefined,
    );
    await h.waitFor(
      "the build to start again",
      async () => (linesOf(await h.logOf(job.id), "build-started") === 2 ? true : undefined),
      300_000,
    );
    releaseBuilds(name);
    const run = await h.completed(target, sha, "test", 300_000);
    assert.equal(run.conclusion, "success");
    assert.match(await h.logOf(job.id), /^hello from mariadb$/m);
    await h.waitFor("the retried job's service and network to be removed", () => jobGone(job.id));
    await second.stop();
  });
});
