import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { readDispatchArgs } from "../../src/cli/commands/dispatch.js";
import { AppHarness } from "../support/app-harness.js";
import { kozmicArgv } from "../support/kozmic-cli.js";

/** `kozmic dispatch <args>` against the harness's GitHub and data directory. */
function dispatch(
  h: AppHarness,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, kozmicArgv(["dispatch", ...args]), {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      USER: "ops",
      APP_ID: "4242",
      PRIVATE_KEY: h.appKey.privateKeyPem,
      GHE_HOST: h.fake.host,
      GHE_PROTOCOL: "http",
      KOZMIC_DATA_DIR: h.dir,
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("kozmic dispatch OWNER/REPO --ref BRANCH: a run by hand from the command line", () => {
  let h: AppHarness;
  before(async () => {
    h = await AppHarness.start({ enterprise: true, paceWrites: false });
  });
  after(() => h.stop());

  it("the serving app's planner builds the branch's head with the inputs", async () => {
    const { target } = h.repository();
    const sha = "f".repeat(40);
    h.fake.addCommit(
      target.fullName,
      sha,
      { ".github/kozmic.yml": "hooks:\n  - name: t\n    image: alpine:3\n    build: make\n" },
      "release",
    );
    const run = await dispatch(h, [
      target.fullName,
      "--ref",
      "release",
      "--input",
      "TARGET=staging",
      "--input=NOTE=a b=c",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const buildId = /build ([0-9a-f-]{36})/.exec(run.stdout)?.[1];
    assert.ok(buildId, run.stdout);
    const build = await h.eventually("the planned build", () => h.store.getBuild(buildId));
    assert.equal(build.event, "manual");
    assert.equal(build.sha, sha);
    assert.equal(build.trigger, "operator:ops");
    const [message, ...more] = await h.eventually("the job's message", async () => {
      const messages = await h.drain();
      return messages.length > 0 && messages;
    });
    assert.equal(more.length, 0);
    assert.deepEqual((message?.hook as { env: Record<string, string> }).env, {
      TARGET: "staging",
      NOTE: "a b=c",
    });
    assert.deepEqual(h.fake.violations, []);
  });

  it("an unknown repository and bad arguments are one line each, nothing queued", async () => {
    const unknown = await dispatch(h, ["acme/nope", "--ref", "main"]);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /^kozmic dispatch: acme\/nope: no such repository has the GitHub App installed/,
    );
    const noRef = await dispatch(h, ["acme/x"]);
    assert.equal(noRef.code, 2);
    assert.match(noRef.stderr, /^kozmic dispatch: name the branch with --ref BRANCH\n/);
    await h.app.idle();
    assert.deepEqual(await h.drain(), []);
  });

  it("reads its arguments strictly", () => {
    assert.deepEqual(readDispatchArgs(["a/b", "--ref=main", "--input", "X=1"]), {
      repo: "a/b",
      branch: "main",
      inputs: { X: "1" },
    });
    assert.equal(
      readDispatchArgs(["a/b", "--ref", "main", "--input", "1X=2"]),
      "an --input is not NAME=value (NAME of letters, digits and _).",
    );
    assert.equal(readDispatchArgs(["a/b", "--ref", "-x"]), "name the branch with --ref BRANCH");
    assert.equal(
      readDispatchArgs(["a/b", "--ref", "main", "--input", "KOZMIC_X=1"]),
      "Input KOZMIC_X: KOZMIC_ names are Kozmic's own.",
    );
    assert.equal(readDispatchArgs(["a/b", "c/d", "--ref", "main"]), 'unexpected argument "c/d"');
  });
});
