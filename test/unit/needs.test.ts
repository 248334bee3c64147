import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/core/config/parse-config.js";
import type { JobRecord } from "../../src/core/build-records.js";
import { decideRelease } from "../../src/core/decide-release.js";
import { ConfigError } from "../../src/core/errors.js";
import { describeJobStatus, jobState } from "../../src/web/describe-status.js";
import { orderByNeeds, planJobs, type EventFacts } from "../../src/core/plan-jobs.js";

const hook = (name: string, ...lines: string[]) => [
  `  - name: ${name}`,
  "    image: alpine:3",
  "    build: make",
  ...lines,
];

function problems(...lines: string[]): string[] {
  try {
    parseConfig(["hooks:", ...lines, ""].join("\n"));
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.issues.map((i) => `${i.line}:${i.column} ${i.message}`);
  }
  return [];
}

const push: EventFacts = {
  event: "push",
  installationId: 1,
  repository: {
    id: 9,
    fullName: "acme/app",
    cloneUrl: "https://github.com/acme/app.git",
    private: false,
  },
  sha: "e".repeat(40),
  ref: "refs/heads/main",
  trigger: "octocat",
  changedFiles: ["docs/readme.md"],
};

function plan(...lines: string[]) {
  let n = 0;
  const config = parseConfig(["hooks:", ...lines, ""].join("\n"));
  return planJobs(config, push, { newId: () => `id-${++n}`, now: 1 });
}

describe("needs: configuration", () => {
  it("names other hooks of the file", () => {
    assert.deepEqual(problems(...hook("lint"), ...hook("deploy", "    needs: [lint]")), []);
  });

  it("an unknown name, the hook's own and one listed twice are errors at their place", () => {
    assert.deepEqual(
      problems(...hook("lint"), ...hook("deploy", "    needs: [lint, lnt, deploy, lint]")),
      [
        `8:19 hook "deploy": needs[1]: expected the name of another hook, found "lnt"`,
        `8:24 hook "deploy": needs[2]: expected another hook's name, not its own, found "deploy"`,
        `8:32 hook "deploy": needs[3]: listed twice, found "lint"`,
      ],
    );
  });

  it("a cycle is an error on the need that closes it, naming the hooks around it", () => {
    assert.deepEqual(
      problems(
        ...hook("a", "    needs: [c]"),
        ...hook("b", "    needs:", "      - a"),
        ...hook("c", "    needs: [b]"),
        ...hook("d", "    needs: [a]"),
      ),
      [`10:9 hook "b": needs[0]: needs form a cycle, found: a → c → b → a`],
    );
  });

  it("a list that is not of names is an error", () => {
    assert.match(problems(...hook("a", "    needs: lint")).join("\n"), /5:12 .*needs.*a list/);
  });
});

describe("needs: planning", () => {
  it("a dependent waits for every job of the hooks it needs, matrix combinations included, its message kept", () => {
    const { jobs, skipped } = plan(
      ...hook("lint"),
      ...hook("test", "    matrix:", '      python: ["3.11", "3.12"]'),
      ...hook("deploy", "    needs: [test, lint]"),
    );
    assert.deepEqual(skipped, []);
    const [lint, t1, t2, deploy] = jobs.map((job) => job.record);
    assert.equal(lint!.status, "queued");
    assert.equal(t1!.status, "queued");
    assert.equal(deploy!.status, "waiting");
    assert.deepEqual(deploy!.needs, [lint!.id, t1!.id, t2!.id]);
    assert.deepEqual(deploy!.waitsFor, ["test", "lint"]);
    assert.deepEqual(deploy!.waitingMessage, jobs[3]!.message);
    for (const need of [lint, t1, t2]) assert.deepEqual(need!.dependents, [deploy!.id]);
  });

  it("a hook whose need does not run (its paths left it out) is skipped, and so are its own dependents", () => {
    const { jobs, skipped } = plan(
      ...hook("test", "    paths: [src/**]"),
      ...hook("deploy", "    needs: [test]"),
      ...hook("notify", "    needs: [deploy]"),
      ...hook("lint"),
    );
    assert.deepEqual(
      jobs.map((job) => job.name),
      ["lint"],
    );
    assert.deepEqual(skipped, [
      { name: "test", reason: skipped[0]!.reason },
      { name: "deploy", reason: "it needs test, which does not run" },
      { name: "notify", reason: "it needs deploy, which does not run" },
    ]);
  });

  it("a re-run of one hook does not wait for hooks it does not run", () => {
    let n = 0;
    const config = parseConfig(
      ["hooks:", ...hook("test"), ...hook("deploy", "    needs: [test]"), ""].join("\n"),
    );
    const { jobs } = planJobs(
      config,
      { ...push, event: "rerun", onlyHooks: ["deploy"] },
      { newId: () => `id-${++n}`, now: 1 },
    );
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.record.status, "queued");
    assert.equal(jobs[0]!.record.needs, undefined);
  });
});

describe("needs: one after another (kozmic run)", () => {
  it("puts every hook after the hooks it needs, else keeps the file's order", () => {
    const config = parseConfig(
      [
        "hooks:",
        ...hook("deploy", "    needs: [test, package]"),
        ...hook("lint"),
        ...hook("package", "    needs: [test]"),
        ...hook("test", "    matrix:", "      n: [1, 2]"),
        "",
      ].join("\n"),
    );
    const jobs = config.hooks.map((h) => ({ hook: h }));
    assert.deepEqual(
      orderByNeeds(jobs).map((job) => job.hook.name),
      ["lint", "test", "package", "deploy"],
    );
    const chosen = jobs.filter((job) => job.hook.name !== "test");
    assert.deepEqual(
      orderByNeeds(chosen).map((job) => job.hook.name),
      ["lint", "package", "deploy"],
      "needs not chosen are not waited for",
    );
  });
});

describe("needs: release", () => {
  const job = (hook: string, fields: Partial<JobRecord>): JobRecord => ({
    id: hook,
    buildId: "b",
    repoId: 1,
    repoFullName: "acme/app",
    sha: "e".repeat(40),
    hook,
    status: "queued",
    createdAt: 1,
    updatedAt: 1,
    ...fields,
  });
  const done = (hook: string, conclusion: JobRecord["conclusion"]) =>
    job(hook, { status: "completed", conclusion });

  it("releases once every need succeeded, and waits while one has not ended", () => {
    assert.deepEqual(decideRelease([done("lint", "success"), done("test", "success")]), {
      action: "release",
    });
    assert.equal(
      decideRelease([done("lint", "success"), job("test", { status: "running" })]),
      undefined,
    );
    assert.equal(decideRelease([job("lint", { status: "waiting" })]), undefined);
  });

  it("skips as soon as one need did not succeed, saying which and how", () => {
    const running = job("lint", { status: "running" });
    const cases: [JobRecord, string][] = [
      [done("test", "failure"), "test failed"],
      [done("test", "cancelled"), "test was cancelled"],
      [done("test", "timed_out"), "test timed out"],
      [done("test", "skipped"), "test was skipped"],
      [job("test", { status: "errored" }), "test could not run"],
    ];
    for (const [need, reason] of cases) {
      assert.deepEqual(decideRelease([running, need]), { action: "skip", reason });
    }
    assert.deepEqual(decideRelease([undefined]), {
      action: "skip",
      reason: "a job it needs no longer exists",
    });
  });

  it("the pages say what a waiting job waits for, and that a skipped one was skipped", () => {
    const waiting = job("deploy", { status: "waiting", waitsFor: ["test", "lint"] });
    assert.equal(describeJobStatus(waiting), "Waiting for test, lint");
    assert.equal(jobState(waiting), "queued");
    const skipped = done("deploy", "skipped");
    assert.equal(describeJobStatus(skipped), "Skipped");
    assert.equal(jobState(skipped), "cancelled");
  });
});
