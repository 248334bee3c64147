/**
 * The boot script of a runner host, as text: pure string work, so that it can be tested
 * without CDK. Values may be CDK tokens (they are only concatenated, never parsed); CDK
 * turns the result into an Fn::Join that CloudFormation fills in at deploy time.
 */

export interface RunnerHostSettings {
  /** The lines of /etc/kozmic/runner.env the stack knows (APP_ID, KOZMIC_QUEUE_URL, ...). */
  environment: Record<string, string>;
  /** The Secrets Manager secret whose PRIVATE_KEY becomes PRIVATE_KEY_PATH's file. */
  secretArn: string;
  region: string;
  /** A git URL and ref of Kozmic's source, built on the host. */
  sourceUrl: string;
  sourceRef: string;
  /** The Node.js release line installed from nodejs.org ("22", "24"). */
  nodeMajor: string;
}

/** Where the runner reads the App's private key (the unit's EnvironmentFile names the env file). */
export const PRIVATE_KEY_FILE = "/etc/kozmic/app.pem";

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

/**
 * The user data of a runner host (Amazon Linux 2023): Docker, git and Node.js, Kozmic built
 * in /opt/kozmic, the App's key from Secrets Manager, the settings file made from the
 * example, and the systemd unit `unit` enabled and started.
 */
export function runnerUserData(unit: string, envExample: string, host: RunnerHostSettings): string {
  const environment = runnerEnvironmentFile(envExample, {
    ...host.environment,
    PRIVATE_KEY_PATH: PRIVATE_KEY_FILE,
  });
  return [
    "#!/bin/bash",
    "# Kozmic runner host: written by the Kozmic CDK stack (infra/). Log: /var/log/cloud-init-output.log",
    "set -euo pipefail",
    "",
    "dnf install -y docker git tar xz gcc-c++ make python3",
    "systemctl enable --now docker",
    "",
    "# Node.js from nodejs.org, checked against the release's SHASUMS256.txt.",
    'case "$(uname -m)" in x86_64) node_arch=x64 ;; aarch64) node_arch=arm64 ;; *) echo "unsupported machine $(uname -m)" >&2; exit 1 ;; esac',
    `node_dist=https://nodejs.org/dist/latest-v${host.nodeMajor}.x`,
    "cd /tmp",
    'curl -fsSLO "$node_dist/SHASUMS256.txt"',
    'node_tar=$(grep -o "node-v[0-9.]*-linux-$node_arch.tar.xz" SHASUMS256.txt | head -n 1)',
    'curl -fsSLO "$node_dist/$node_tar"',
    'grep " $node_tar\\$" SHASUMS256.txt | sha256sum -c -',
    'tar -xJf "$node_tar" -C /usr/local --strip-components=1',
    "# The unit runs /usr/bin/node.",
    "ln -sf /usr/local/bin/node /usr/bin/node",
    "",
    "id kozmic >/dev/null 2>&1 || useradd --system --home-dir /var/lib/kozmic --shell /sbin/nologin --groups docker kozmic",
    "rm -rf /opt/kozmic",
    `git clone --depth 1 --branch '${host.sourceRef}' '${host.sourceUrl}' /opt/kozmic`,
    "cd /opt/kozmic",
    "npm ci --no-audit --no-fund",
    "npm run build",
    "",
    "install -d -m 0750 -o root -g kozmic /etc/kozmic",
    "# The App's private key: only this boot reads the secret (a new key needs new hosts).",
    `(umask 077 && aws secretsmanager get-secret-value --region '${host.region}' --secret-id '${host.secretArn}' --query SecretString --output text \\`,
    `  | node -e 'const s = JSON.parse(require("fs").readFileSync(0, "utf8")); if (!s.PRIVATE_KEY) { console.error("the secret has no PRIVATE_KEY"); process.exit(1); } process.stdout.write(s.PRIVATE_KEY)' \\`,
    `  > ${PRIVATE_KEY_FILE})`,
    `chown root:kozmic ${PRIVATE_KEY_FILE} && chmod 0440 ${PRIVATE_KEY_FILE}`,
    writeFile("/etc/kozmic/runner.env", environment),
    "chown root:kozmic /etc/kozmic/runner.env && chmod 0640 /etc/kozmic/runner.env",
    "# The fleet cache's tag key (docs/runner.md), when the secret has one.",
    `aws secretsmanager get-secret-value --region '${host.region}' --secret-id '${host.secretArn}' --query SecretString --output text \\`,
    `  | node -e 'const k = JSON.parse(require("fs").readFileSync(0, "utf8")).KOZMIC_CACHE_REGISTRY_KEY; if (k) process.stdout.write("KOZMIC_CACHE_REGISTRY_KEY=" + k + "\\n")' \\`,
    "  >> /etc/kozmic/runner.env",
    writeFile("/etc/systemd/system/kozmic-runner.service", unit),
    "systemctl daemon-reload",
    "systemctl enable --now kozmic-runner",
    "",
  ].join("\n");
}
