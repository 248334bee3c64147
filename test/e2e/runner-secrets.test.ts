import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { localKeyWrapper } from "../../src/secrets/local-key-wrapper.js";
import { SecretVault } from "../../src/secrets/secret-vault.js";
import { recoverable } from "../support/recoverable-secret.js";
import { ran, shownLog } from "../support/shown-log.js";
import { RUNNER_IMAGE, RunnerHarness } from "./runner-harness.js";

const TOKEN = "pypi-AgEIcHlwaS5vcmc-e2e-Secret-Value";
/** 119 characters: its base64 spans three lines at 76 columns, four at 64 (issue 25, M1). */
const LONG_TOKEN = "ghp_" + "Zk9zbWljLWxvbmctdG9rZW4tZTJl".repeat(5).slice(0, 115);
const PEM_KEY = [
  "-----BEGIN PRIVATE KEY-----",
  ...Buffer.from("kozmic-e2e-private-key:".repeat(30))
    .toString("base64")
    .match(/.{1,64}/g)!,
  "-----END PRIVATE KEY-----",
].join("\n");

/** A config whose one hook names `secrets` and runs `build`. */
function secretsYml(secrets: string[], build: string): string {
  return [
    "hooks:",
    "  - name: test",
    `    image: ${RUNNER_IMAGE}`,
    `    secrets: [${secrets.join(", ")}]`,
    "    build: |",
    ...build.split("\n").map((line) => `      ${line}`),
    "",
  ].join("\n");
}

describe("secrets through the runner: webhook -> runner -> Docker -> check run", () => {
  let h: RunnerHarness;
  let vault: SecretVault;
  before(async () => {
    h = await RunnerHarness.start();
    vault = new SecretVault(h.store, localKeyWrapper(randomBytes(32)));
    h.startRunner({ concurrency: 2 }, { secrets: vault });
  });
  after(async () => {
    assert.deepEqual(h.fake.violations, [], "every GitHub request matched the OpenAPI description");
    await h.stop();
  });

  it("a trusted push gets its secret, and neither the stored log nor the check run shows it", async () => {
    const { git, target } = h.repository();
    await vault.set(target.id, "PYPI_TOKEN", TOKEN, "octocat");
    const sha = git.commit({
      ".github/kozmic.yml": secretsYml(
        ["PYPI_TOKEN"],
        'echo "token: $PYPI_TOKEN"\necho "length ${#PYPI_TOKEN}"\nprintf %s "$PYPI_TOKEN" | base64',
      ),
    });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "success", run.output.text ?? "");
    const log = await h.logOf(run.external_id!);
    // Each command echoed as written (the variable's name), then its masked output.
    assert.match(
      shownLog(log),
      ran(
        ['echo "token: $PYPI_TOKEN"', "token: ***"],
        ['echo "length ${#PYPI_TOKEN}"', `length ${TOKEN.length}`],
        ['printf %s "$PYPI_TOKEN" | base64', "***"],
      ),
    );
    const shown = [log, ...run.updates.map((u) => JSON.stringify(u))].join("\n");
    assert.equal(shown.includes(TOKEN), false);
    assert.equal(shown.includes(Buffer.from(TOKEN).toString("base64")), false);
    assert.match(run.output.text ?? "", /token: \*\*\*/, "the check run's tail is masked too");
    assert.match(run.output.text ?? "", /^\+ echo "token: \$PYPI_TOKEN"$/m, "echoed, plain");
    // The sections the runner recorded beside the log, on the check run.
    assert.match(
      run.output.summary ?? "",
      /^preparing +succeeded .*\n(install.*\n)?build +succeeded +\d+s +Build$/m,
    );
  });

  it("a secret a test prints into its JUnit report is masked in the failed test's annotation", async () => {
    const { git, target } = h.repository();
    await vault.set(target.id, "PYPI_TOKEN", TOKEN, "octocat");
    const build = [
      `printf '<testsuite><testcase name="test_upload %s"><failure message="401 for %s">token %s</failure></testcase></testsuite>' "$PYPI_TOKEN" "$PYPI_TOKEN" "$PYPI_TOKEN" > junit.xml`,
      "exit 1",
    ].join("\n");
    const yml = secretsYml(["PYPI_TOKEN"], build) + "    reports: [junit.xml]\n";
    const sha = git.commit({ ".github/kozmic.yml": yml });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "failure");
    assert.deepEqual(
      run.annotations.map((a) => [a.title, a.message]),
      [["test_upload ***", "401 for ***\ntoken ***"]],
    );
    assert.equal(JSON.stringify(run.updates).includes(TOKEN), false);
  });

  it("a long token and a PEM key piped to base64 (wrapped at 76 and at 64 columns) cannot be read back from the log or the check run", async () => {
    assert.equal(LONG_TOKEN.length, 119);
    const { git, target } = h.repository();
    await vault.set(target.id, "LONG_TOKEN", LONG_TOKEN, "octocat");
    await vault.set(target.id, "PEM_KEY", PEM_KEY, "octocat");
    const sha = git.commit({
      ".github/kozmic.yml": secretsYml(
        ["LONG_TOKEN", "PEM_KEY"],
        [
          'echo "$LONG_TOKEN" | base64',
          'echo "$PEM_KEY" | base64',
          'echo "$LONG_TOKEN" | base64 -w 64',
          'echo "$PEM_KEY" | base64 -w 64',
          'printf "user:%s" "$LONG_TOKEN" | base64',
          'printf "\\033[1m%s\\033[0m%s\\n" "${LONG_TOKEN%????????????????????????????????????????}" "${LONG_TOKEN#???????????????????????????????????????????????????????????????????????????????}"',
          "echo done",
        ].join("\n"),
      ),
    });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "success", run.output.text ?? "");
    const log = await h.logOf(run.external_id!);
    assert.match(log, /\ndone\n/);
    // The log still has the lines base64 printed: each piece of them masked.
    assert.ok(log.split("\n").filter((line) => line.startsWith("***")).length >= 10, log);
    const shown = [log, ...run.updates.map((u) => JSON.stringify(u))].join("\n");
    assert.equal(recoverable(shown, LONG_TOKEN), false, log);
    assert.equal(recoverable(shown, PEM_KEY), false, log);
    assert.equal(recoverable(log, PEM_KEY.split("\n")[1]!), false, log);
  });

  it("a fork's pull request runs without secrets, and its check run says so", async () => {
    const { git, target } = h.repository();
    await vault.set(target.id, "PYPI_TOKEN", TOKEN, "octocat");
    const config = secretsYml(["PYPI_TOKEN"], 'echo "token=[${PYPI_TOKEN:-}]"\nls /kozmic');
    const sha = git.commit({ ".github/kozmic.yml": config });
    // As the planner sends a fork's job: trust "untrusted" (the planner's choice is tested
    // with the app's webhooks).
    const { messages } = await h.planPush(target, sha, config, { send: false });
    for (const message of messages) await h.queue.send({ ...message, trust: "untrusted" });
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "success", run.output.text ?? "");
    const log = await h.logOf(run.external_id!);
    assert.match(log, /token=\[\]\n/);
    assert.doesNotMatch(log, /^secrets$/m, "no secrets directory either");
    assert.match(
      run.output.summary ?? "",
      /Secrets PYPI_TOKEN were not given to this job: it runs code from a fork/,
    );
    assert.equal(JSON.stringify(run.updates).includes(TOKEN), false);
  });

  it("a missing secret fails the job, naming it, before anything runs", async () => {
    const { git, target } = h.repository();
    await vault.set(target.id, "PYPI_TOKEN", TOKEN, "octocat");
    const sha = git.commit({
      ".github/kozmic.yml": secretsYml(["PYPI_TOKEN", "NPM_TOKEN"], "echo SHOULD-NOT-RUN"),
    });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "failure");
    assert.match(run.output.summary ?? "", /secret NPM_TOKEN is not set for this repository/);
    const log = await h.logOf(run.external_id!);
    assert.match(log, /cannot run this job: secret NPM_TOKEN is not set/);
    assert.doesNotMatch(log, /fetching|SHOULD-NOT-RUN/);
  });
});
