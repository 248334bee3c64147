import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { runnerEnvironmentFile, runnerUserData } from "../../infra/lib/runner-user-data.js";

const host = {
  environment: { APP_ID: "42" },
  secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kozmic-AbCdEf",
  region: "eu-west-1",
  artifact: {
    s3Url: "s3://cdk-assets-eu-west-1/abc.tar.gz",
    sha256: "0".repeat(64),
    machine: "x86_64",
  },
  bootLogGroup: "kozmic-boot",
  runnerLogGroup: "kozmic-runner",
};

describe("runner hosts' user data (infra/lib/runner-user-data.ts)", () => {
  it("fills the example's lines in place, commented or not, and appends the ones it lacks", () => {
    const example = [
      "# settings",
      "APP_ID=123456",
      "# A comment about the host:",
      "# GHE_HOST=github.example.com",
      "# KOZMIC_RUNNER_NAME=docker-host-1",
      "",
    ].join("\n");
    const file = runnerEnvironmentFile(example, {
      APP_ID: "42",
      GHE_HOST: "",
      KOZMIC_PLAN_QUEUE_URL: "https://sqs.example/q-plans",
    });
    assert.equal(
      file,
      [
        "# settings",
        "APP_ID=42",
        "# A comment about the host:",
        "GHE_HOST=",
        "# KOZMIC_RUNNER_NAME=docker-host-1",
        "# Set by the Kozmic CDK stack:",
        "KOZMIC_PLAN_QUEUE_URL=https://sqs.example/q-plans",
        "",
      ].join("\n"),
    );
  });

  it("a variable named twice in the example is set once, where it first appears", () => {
    const file = runnerEnvironmentFile("# X=1\n# X=2\n", { X: "3" });
    assert.equal(file, "X=3\n# X=2\n");
  });

  it("writes the unit and the settings through quoted heredocs: the shell expands nothing in them", () => {
    const script = runnerUserData("[Service]\nExecStart=/bin/echo $HOME\n", "APP_ID=1\n", host);
    assert.ok(
      script.includes(
        "cat > /etc/systemd/system/kozmic-runner.service <<'KOZMIC_FILE_END'\n[Service]\nExecStart=/bin/echo $HOME\nKOZMIC_FILE_END\n",
      ),
    );
    assert.ok(
      script.includes(
        "cat > /etc/kozmic/runner.env <<'KOZMIC_FILE_END'\nAPP_ID=42\n# Set by the Kozmic CDK stack:\nPRIVATE_KEY_PATH=/etc/kozmic/app.pem\nKOZMIC_METRICS_PORT=9464\nKOZMIC_FILE_END\n",
      ),
    );
    // The artifact the stack built, checked by its hash; nothing fetched from elsewhere.
    assert.match(
      script,
      /aws s3 cp --region "\$region" --only-show-errors 's3:\/\/cdk-assets-eu-west-1\/abc\.tar\.gz'/,
    );
    assert.ok(
      script.includes(
        `echo '${"0".repeat(64)}  /var/tmp/kozmic-runner.tar.gz' | sha256sum --check`,
      ),
    );
    assert.doesNotMatch(script, /git clone|npm |nodejs\.org|tsc/);
    assert.match(
      script,
      /\.KOZMIC_CACHE_REGISTRY_KEY; if \(k\) process\.stdout\.write\("KOZMIC_CACHE_REGISTRY_KEY=" \+ k \+ "\\n"\)' \\\n {2}>> \/etc\/kozmic\/runner\.env\n/,
    );
    assert.match(
      script,
      /--region "\$region" --secret-id 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kozmic-AbCdEf'/,
    );
  });

  it("refuses a file holding the heredoc's delimiter line, which would end it early", () => {
    assert.throws(
      () => runnerUserData("[Unit]\nKOZMIC_FILE_END\nrm -rf /\n", "APP_ID=1\n", host),
      /the text for \/etc\/systemd\/system\/kozmic-runner\.service contains the heredoc delimiter KOZMIC_FILE_END/,
    );
  });

  it("the real example and unit make a script that starts the runner, then waits for its health", () => {
    const script = runnerUserData(
      readFileSync("infra/runner/kozmic-runner.service", "utf8"),
      readFileSync("infra/runner/runner.env.example", "utf8"),
      host,
    );
    assert.match(script, /^#!\/bin\/bash\n[\s\S]*set -Eeuo pipefail\n/);
    assert.match(
      script,
      /systemctl enable --now kozmic-runner\n[\s\S]*http:\/\/127\.0\.0\.1:9464\/healthz/,
    );
    assert.match(script, /\nAPP_ID=42\n/);
    assert.doesNotMatch(script, /APP_ID=123456/);
    // bash parses it (-n: reads without running).
    execFileSync("bash", ["-n"], { input: script });
  });
});
