/**
 * The boot script of a runner host, as text: pure string work, so that it can be tested
 * without CDK. Values may be CDK tokens (they are only concatenated, never parsed); CDK
 * turns the result into an Fn::Join that CloudFormation fills in at deploy time.
 */

/** The runner software the stack built (scripts/bundle-runner.ts), as an S3 asset. */
export interface RunnerArtifactRef {
  /** s3://bucket/key of the tarball. */
  s3Url: string;
  /** Its sha256, checked before anything in it runs. */
  sha256: string;
  /** `uname -m` of the hosts it runs on (its Node.js and native module are built for it). */
  machine: string;
}

export interface RunnerHostSettings {
  /** The lines of /etc/kozmic/runner.env the stack knows (APP_ID, KOZMIC_QUEUE_URL, ...). */
  environment: Record<string, string>;
  /** The Secrets Manager secret whose PRIVATE_KEY becomes PRIVATE_KEY_PATH's file. */
  secretArn: string;
  region: string;
  artifact: RunnerArtifactRef;
  /** CloudWatch Logs groups the boot log and the runner's output are shipped to. */
  bootLogGroup: string;
  runnerLogGroup: string;
  /** How long the boot waits for the runner's /healthz; default RUNNER_HEALTH_WAIT_SECONDS. */
  healthWaitSeconds?: number;
}

/** Where the runner reads the App's private key (the unit's EnvironmentFile names the env file). */
export const PRIVATE_KEY_FILE = "/etc/kozmic/app.pem";

/** The boot's own log, and the runner's output (besides the journal), both shipped. */
export const BOOT_LOG = "/var/log/kozmic/boot.log";
export const RUNNER_LOG = "/var/log/kozmic/runner.log";

/** Where the runner answers /healthz on the host itself (KOZMIC_METRICS_PORT, on 127.0.0.1). */
export const RUNNER_HEALTH_PORT = "9464";

/**
 * How long the boot waits for the runner's /healthz before it reports the host unhealthy:
 * well past a healthy start (seconds), well inside the group's grace period.
 */
export const RUNNER_HEALTH_WAIT_SECONDS = 180;

const CLOUDWATCH_AGENT = "/opt/aws/amazon-cloudwatch-agent";

/**
 * `infra/runner/runner.env.example` with the stack's values put in: each variable's line
 * (commented or not) becomes `NAME=value` in place, so the host's file keeps the example's
 * explanations; variables the example does not mention are appended.
 */
export function runnerEnvironmentFile(example: string, values: Record<string, string>): string {
  const pending = new Map(Object.entries(values));
  const lines = example.split("\n").map((line) => {
    const name = /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1];
    if (name === undefined || !pending.has(name)) return line;
    const value = pending.get(name)!;
    pending.delete(name);
    return `${name}=${value}`;
  });
  while (lines.at(-1) === "") lines.pop();
  if (pending.size > 0) {
    lines.push("# Set by the Kozmic CDK stack:");
    for (const [name, value] of pending) lines.push(`${name}=${value}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * A heredoc that writes `text` to `path` as it is: the quoted delimiter stops the shell
 * from expanding anything in it.
 */
function writeFile(path: string, text: string): string {
  const delimiter = "KOZMIC_FILE_END";
  if (text.split("\n").includes(delimiter)) {
    throw new Error(`the text for ${path} contains the heredoc delimiter ${delimiter}`);
  }
  return `cat > ${path} <<'${delimiter}'\n${text.endsWith("\n") ? text : `${text}\n`}${delimiter}`;
}

/** The CloudWatch agent's settings: the boot log and the runner's output, one stream per host. */
function cloudWatchAgentConfig(host: RunnerHostSettings): string {
  const file = (path: string, group: string) => ({
    file_path: path,
    log_group_name: group,
    log_stream_name: "{instance_id}",
  });
  return JSON.stringify(
    {
      logs: {
        logs_collected: {
          files: {
            collect_list: [
              file(BOOT_LOG, host.bootLogGroup),
              file(RUNNER_LOG, host.runnerLogGroup),
            ],
          },
        },
      },
    },
    null,
    2,
  );
}

/** The unit's output into RUNNER_LOG as well, where the CloudWatch agent reads it. */
const RUNNER_LOG_DROP_IN = [
  "[Service]",
  `StandardOutput=append:${RUNNER_LOG}`,
  `StandardError=append:${RUNNER_LOG}`,
].join("\n");

/**
 * The user data of a runner host (Amazon Linux 2023): Docker and the CloudWatch agent from
 * the distribution, the runner artifact from S3 checked by its sha256 and unpacked in
 * /opt/kozmic (Node.js included), the App's key from Secrets Manager, the settings file made
 * from the example, the systemd unit `unit` started, and its /healthz awaited. A step that
 * fails, or a runner that does not answer, marks the host unhealthy so that its Auto Scaling
 * group replaces it; the boot log goes to CloudWatch Logs either way.
 */
export function runnerUserData(unit: string, envExample: string, host: RunnerHostSettings): string {
  const environment = runnerEnvironmentFile(envExample, {
    ...host.environment,
    PRIVATE_KEY_PATH: PRIVATE_KEY_FILE,
    KOZMIC_METRICS_PORT: RUNNER_HEALTH_PORT,
  });
  const tarball = "/var/tmp/kozmic-runner.tar.gz";
  const healthWait = host.healthWaitSeconds ?? RUNNER_HEALTH_WAIT_SECONDS;
  const metadata = "http://169.254.169.254/latest";
  const readSecret = `aws secretsmanager get-secret-value --region "$region" --secret-id '${host.secretArn}' --query SecretString --output text`;
  return [
    "#!/bin/bash",
    `# Kozmic runner host: written by the Kozmic CDK stack (infra/). Log: ${BOOT_LOG} (and CloudWatch Logs).`,
    "set -Eeuo pipefail",
    "install -d -m 0755 /var/log/kozmic",
    `exec > >(tee -a ${BOOT_LOG}) 2>&1`,
    `region='${host.region}'`,
    "",
    'fail() { echo "kozmic boot: $*" >&2; return 1; }',
    "# A boot that fails marks this host unhealthy at once (not after the grace period), and",
    "# its Auto Scaling group replaces it.",
    "report_failure() {",
    "  trap - ERR",
    '  echo "kozmic boot: failed at line $1 (exit $2); marking this host unhealthy" >&2',
    `  local token instance`,
    `  token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' ${metadata}/api/token) &&`,
    `    instance=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" ${metadata}/meta-data/instance-id) &&`,
    '    aws autoscaling set-instance-health --region "$region" --instance-id "$instance" --health-status Unhealthy --no-should-respect-grace-period ||',
    '    echo "kozmic boot: could not mark this host unhealthy" >&2',
    '  exit "$2"',
    "}",
    "trap 'report_failure $LINENO $?' ERR",
    "",
    `[ "$(uname -m)" = '${host.artifact.machine}' ] ||`,
    `  fail "the runner artifact is built for ${host.artifact.machine} hosts, this one is $(uname -m): use an instance type and RunnerImageId of that architecture, or build the artifact on one"`,
    "",
    "dnf install -y docker amazon-cloudwatch-agent libstdc++",
    "systemctl enable --now docker",
    writeFile(`${CLOUDWATCH_AGENT}/etc/kozmic.json`, cloudWatchAgentConfig(host)),
    `${CLOUDWATCH_AGENT}/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${CLOUDWATCH_AGENT}/etc/kozmic.json`,
    "",
    "id kozmic >/dev/null 2>&1 || useradd --system --home-dir /var/lib/kozmic --shell /sbin/nologin kozmic",
    "# Also when the image already had the user: the runner talks to Docker's socket.",
    "usermod -aG docker kozmic",
    "# The runner as the stack built it (scripts/bundle-runner.ts), used only if its sha256 matches.",
    `aws s3 cp --region "$region" --only-show-errors '${host.artifact.s3Url}' ${tarball}`,
    `echo '${host.artifact.sha256}  ${tarball}' | sha256sum --check --quiet - ||`,
    `  fail "${tarball} from ${host.artifact.s3Url} is not the artifact the stack built (sha256 ${host.artifact.sha256})"`,
    "rm -rf /opt/kozmic && install -d -m 0755 /opt/kozmic",
    `tar -xzf ${tarball} -C /opt/kozmic --no-same-owner`,
    `rm -f ${tarball}`,
    "# The unit runs /usr/bin/node: the artifact's, which its native module was built for.",
    "ln -sf /opt/kozmic/node/bin/node /usr/bin/node",
    "",
    "install -d -m 0750 -o root -g kozmic /etc/kozmic",
    "# The App's private key: only this boot reads the secret (a new key needs new hosts).",
    `(umask 077 && ${readSecret} \\`,
    `  | node -e 'const s = JSON.parse(require("fs").readFileSync(0, "utf8")); if (!s.PRIVATE_KEY) { console.error("the secret has no PRIVATE_KEY"); process.exit(1); } process.stdout.write(s.PRIVATE_KEY)' \\`,
    `  > ${PRIVATE_KEY_FILE})`,
    `chown root:kozmic ${PRIVATE_KEY_FILE} && chmod 0440 ${PRIVATE_KEY_FILE}`,
    writeFile("/etc/kozmic/runner.env", environment),
    "chown root:kozmic /etc/kozmic/runner.env && chmod 0640 /etc/kozmic/runner.env",
    "# The fleet cache's tag key (docs/runner.md), when the secret has one.",
    `${readSecret} \\`,
    `  | node -e 'const k = JSON.parse(require("fs").readFileSync(0, "utf8")).KOZMIC_CACHE_REGISTRY_KEY; if (k) process.stdout.write("KOZMIC_CACHE_REGISTRY_KEY=" + k + "\\n")' \\`,
    "  >> /etc/kozmic/runner.env",
    writeFile("/etc/systemd/system/kozmic-runner.service", unit),
    "install -d /etc/systemd/system/kozmic-runner.service.d",
    writeFile("/etc/systemd/system/kozmic-runner.service.d/log-file.conf", RUNNER_LOG_DROP_IN),
    "systemctl daemon-reload",
    "systemctl enable --now kozmic-runner",
    "",
    "# Up once the runner answers its health check (settings read, queue and store reached).",
    `health='http://127.0.0.1:${RUNNER_HEALTH_PORT}/healthz'`,
    `for attempt in $(seq 1 ${Math.ceil(healthWait / 2)}); do`,
    `  if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$health"; then`,
    '    echo "kozmic boot: the runner answers $health"',
    "    exit 0",
    "  fi",
    "  sleep 2",
    "done",
    `fail "the runner did not answer $health within ${healthWait} s (its output: ${RUNNER_LOG})"`,
    "",
  ].join("\n");
}
