import { scriptCommand } from "../../src/core/config/script-command.js";
import type { ExtraFile } from "../source/tar-directory.js";

/** Where a step's secrets are, one file each, on the `/kozmic` volume (never committed). */
export const SECRETS_DIR = "/kozmic/secrets";

function quotedInterpreter(script: string): string {
  return scriptCommand(script)
    .interpreter.map((word) => `'${word.replace(/'/g, "'\\''")}'`)
    .join(" ");
}

/**
 * The container's command (`/bin/sh /kozmic/run.sh`): it exports the secrets and runs the
 * script from /kozmic/src, stderr joined to stdout so their lines keep their order. Secrets
 * become environment variables of the script's processes here, never of the container's
 * configuration (which a commit keeps). `printf x` keeps trailing newlines.
 */
export function stepHelper(script: string, secretNames: readonly string[]): string {
  const exports = secretNames.map(
    (name) =>
      `KOZMIC_VALUE=$(cat ${SECRETS_DIR}/${name}; printf x) || exit 125\n` +
      `export ${name}="\${KOZMIC_VALUE%x}"\n`,
  );
  const unset = secretNames.length > 0 ? "unset KOZMIC_VALUE\n" : "";
  return (
    `#!/bin/sh\ncd /kozmic/src || exit 125\n${exports.join("")}${unset}` +
    `exec ${quotedInterpreter(script)} /kozmic/script.sh 2>&1\n`
  );
}

/** Kozmic's files in a step's `/kozmic`: the helper, the script, one 0400 file per secret. */
export function stepFiles(script: string, secrets: Record<string, string> = {}): ExtraFile[] {
  const entries = Object.entries(secrets);
  return [
    { path: "run.sh", content: stepHelper(script, Object.keys(secrets)), mode: 0o755 },
    { path: "script.sh", content: script, mode: 0o644 },
    ...(entries.length === 0
      ? []
      : [
          { path: "secrets", content: "", mode: 0o500, type: "directory" as const },
          ...entries.map(([name, value]) => ({
            path: `secrets/${name}`,
            content: value,
            mode: 0o400,
          })),
        ]),
  ];
}
