import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configSchema, hookSchema } from "../../src/core/config/schema.js";
import { cacheFork, parseMessageHook } from "../../src/core/job-message.js";
import {
  decideTrust,
  hookToInput,
  planJobs,
  supersedeLine,
  type EventFacts,
} from "../../src/core/plan-jobs.js";

const SHA = "d".repeat(40);
const config = configSchema.parse({
  hooks: [
    {
      name: "test",
      image: "node:20",
      install: "npm ci",
      build: "npm test",
      tracked_files: ["package-lock.json"],
      timeout: "30m",
      memory: "2g",
      cpus: 1.5,
      env: { CI: true, RETRIES: 3 },
      secrets: ["NPM_TOKEN"],
      reports: ["junit.xml"],
    },
    {
      name: "lint",
      image: "node:20",
      build: "npm run lint",
      cancel_superseded: false,
      echo: false,
    },
  ],
});

const push: EventFacts = {
  event: "push",
  installationId: 7,
  repository: {
    id: 501,
    fullName: "acme/widgets",
    cloneUrl: "https://github.com/acme/widgets.git",
    private: true,
  },
  sha: SHA,
  ref: "refs/heads/main",
  trigger: "octocat",
};

function counter(): () => string {
  let n = 0;
  return () => `id-${++n}`;
}

describe("planJobs", () => {
  it("plans one build and one queued job per hook, with a valid message each", () => {
    const plan = planJobs(config, push, { newId: counter(), now: 1000 });
    assert.deepEqual(plan.build, {
      id: "id-1",
      installationId: 7,
      repoId: 501,
      repoFullName: "acme/widgets",
      repoPrivate: true,
      sha: SHA,
      ref: "refs/heads/main",
      event: "push",
      trigger: "octocat",
      trust: "trusted",
      createdAt: 1000,
    });
    assert.deepEqual(
      plan.jobs.map((j) => [j.record.id, j.record.hook, j.record.status, j.record.buildId]),
      [
        ["id-2", "test", "queued", "id-1"],
        ["id-3", "lint", "queued", "id-1"],
      ],
    );
    const message = plan.jobs[0]!.message;
    assert.equal(message.jobId, "id-2");
    assert.equal(message.trust, "trusted");
    assert.equal(message.pullRequest, undefined);
    // The runner re-validates the hook and gets exactly the planned hook back.
    assert.deepEqual(parseMessageHook(message), config.hooks[0]);
    assert.deepEqual(
      plan.jobs.map((j) => j.cancelSuperseded),
      [true, false],
    );
    assert.deepEqual(plan.jobs[1]!.supersede, { repoId: 501, line: "branch:main", hook: "lint" });
  });

  it("plans a pull request from a fork as untrusted, on the pull request's line", () => {
    const plan = planJobs(
      config,
      {
        ...push,
        event: "pull_request",
        ref: "refs/pull/9/head",
        pullRequest: 9,
        headRepositoryFullName: "mallory/widgets",
        headRepositoryId: 777,
      },
      { newId: counter(), now: 1 },
    );
    assert.equal(plan.build.trust, "untrusted");
    assert.equal(plan.build.pullRequest, 9);
    assert.equal(plan.build.headRepositoryId, 777, "kept for the build's re-runs");
    assert.ok(
      plan.jobs.every(
        (j) =>
          j.message.trust === "untrusted" &&
          j.message.pullRequest === 9 &&
          cacheFork(j.message) === "repo-777",
      ),
    );
    assert.equal(plan.jobs[0]!.supersede.line, "pr:9");
  });

  it("re-runs only the requested hooks and keeps the original trust", () => {
    const plan = planJobs(
      config,
      { ...push, event: "rerun", onlyHooks: ["lint"], trust: "untrusted" },
      { newId: counter(), now: 1 },
    );
    assert.deepEqual(
      plan.jobs.map((j) => j.hook.name),
      ["lint"],
    );
    assert.equal(plan.jobs[0]!.message.event, "rerun");
    assert.equal(plan.jobs[0]!.message.trust, "untrusted");
  });

  it("gives the fork of a trusted head nothing: its installs are the repository's own", () => {
    const plan = planJobs(
      config,
      { ...push, headRepositoryFullName: "acme/widgets", headRepositoryId: 501 },
      { newId: counter(), now: 1 },
    );
    assert.equal(plan.build.headRepositoryId, undefined);
    assert.equal(plan.jobs[0]!.message.headRepositoryId, undefined);
    assert.equal(cacheFork(plan.jobs[0]!.message), undefined);
  });

  it("refuses facts that would make an invalid queue message", () => {
    assert.throws(
      () => planJobs(config, { ...push, sha: "not-a-sha" }, { newId: counter(), now: 1 }),
      /sha/,
    );
  });
});

describe("decideTrust", () => {
  const pr: EventFacts = { ...push, event: "pull_request", pullRequest: 1 };
  it("trusts pushes and same-repository pull requests (any letter case)", () => {
    assert.equal(decideTrust(push), "trusted");
    assert.equal(decideTrust({ ...pr, headRepositoryFullName: "ACME/Widgets" }), "trusted");
  });
  it("distrusts forks and pull requests whose head repository is gone", () => {
    assert.equal(decideTrust({ ...pr, headRepositoryFullName: "mallory/widgets" }), "untrusted");
    assert.equal(decideTrust({ ...pr, headRepositoryFullName: null }), "untrusted");
    assert.equal(decideTrust(pr), "untrusted");
  });
});

describe("supersedeLine", () => {
  it("names branches, pull requests and other refs", () => {
    assert.equal(supersedeLine({ ref: "refs/heads/feature/x" }), "branch:feature/x");
    assert.equal(supersedeLine({ ref: "refs/pull/3/head", pullRequest: 3 }), "pr:3");
    assert.equal(supersedeLine({ ref: "refs/tags/v1" }), "refs/tags/v1");
  });
});

describe("hookToInput", () => {
  it("writes a hook back in a form the schema reads to the same hook", () => {
    for (const hook of config.hooks) {
      assert.deepEqual(hookSchema.parse(hookToInput(hook)), hook);
    }
    assert.equal(hookToInput(config.hooks[0]!).memory, 2 * 1024 ** 3);
    assert.equal(hookToInput(config.hooks[1]!).memory, undefined);
    assert.deepEqual(hookToInput(config.hooks[0]!).reports, ["junit.xml"]);
    // No reports named, no key: a runner from before `reports:` reads the message.
    assert.equal("reports" in hookToInput(config.hooks[1]!), false);
    // echo: only when turned off, so a runner that predates it reads the other messages.
    assert.equal("echo" in hookToInput(config.hooks[0]!), false);
    assert.equal(hookToInput(config.hooks[1]!).echo, false);
  });

  it("carries services, and no key without them (a runner from before refuses, never skips them)", () => {
    const [withServices] = configSchema.parse({
      hooks: [
        {
          name: "db",
          image: "python:3.12",
          build: "pytest",
          services: {
            db: { image: "mariadb:11", env: { PORT: 3306 }, health: "mysqladmin ping" },
            cache: { image: "redis:7", command: ["redis-server", "--save", ""] },
          },
        },
      ],
    }).hooks;
    assert.deepEqual(hookSchema.parse(hookToInput(withServices!)), withServices);
    assert.equal("services" in hookToInput(config.hooks[0]!), false);
  });
});

describe("cacheFork", () => {
  const job = { trust: "untrusted", sha: "a".repeat(40) } as const;
  it("is the fork's repository, else the pull request (fork deleted), else the commit", () => {
    assert.equal(cacheFork({ ...job, headRepositoryId: 12, pullRequest: 3 }), "repo-12");
    assert.equal(cacheFork({ ...job, pullRequest: 3 }), "pr-3");
    assert.equal(cacheFork(job), `commit-${"a".repeat(40)}`);
    assert.equal(cacheFork({ ...job, trust: "trusted", headRepositoryId: 12 }), undefined);
  });
});
