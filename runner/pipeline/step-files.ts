import { isShellInterpreter, scriptCommand } from "../../src/core/config/script-command.js";
import { echoScript, type EchoedScript } from "../../src/core/shell/echo-script.js";
import type { ExtraFile } from "../engine/port.js";

/** Where a step's secrets are, one file each, on the `/kozmic` volume (never committed). */
export const SECRETS_DIR = "/kozmic/secrets";

function quotedInterpreter(script: string): string {
  return scriptCommand(script)
    .interpreter.map((word) => `'${word.replace(/'/g, "'\\''")}'`)
    .join(" ");
}

/** Where a failing echoed script's EXIT trap writes "N STATUS" (see echoScript). */
export const FAILED_COMMAND_FILE = "/kozmic/failed-command";

/**
 * A shell script with its commands echoed; undefined for other interpreters (python…) and
 * for a script that runs as written (see echoScript).
 */
export function echoedScript(script: string): EchoedScript | undefined {
  if (!isShellInterpreter(scriptCommand(script).interpreter)) return undefined;
  return echoScript(script, FAILED_COMMAND_FILE);
}

/**
 * Lines an install's helper runs after the script succeeded: the new top-level entries of
 * /kozmic/src, biggest first, named with their size. /kozmic is never committed, so what an
 * install leaves there (node_modules, .venv) is gone in the build, which then fails far
 * from the cause. POSIX sh and ls/du/sort only, as in busybox.
 */
const REPORT_WRITES = `kozmic_new="$(ls -A 2>/dev/null | while IFS= read -r e; do
  case "
$kozmic_before
" in *"
$e
"*) ;; *) du -sk -- "$e" 2>/dev/null ;; esac
done | sort -rn)"
if [ -n "$kozmic_new" ]; then
  kozmic_count=$(($(printf '%s\\n' "$kozmic_new" | wc -l)))
  kozmic_top=$(printf '%s\\n' "$kozmic_new" | head -n 1)
  kozmic_kb=\${kozmic_top%%	*}
  if [ "$kozmic_kb" -ge 1024 ]; then
    kozmic_size="$((kozmic_kb / 1024)).$(((kozmic_kb % 1024) * 10 / 1024)) MiB"
  else
    kozmic_size="$kozmic_kb KiB"
  fi
  kozmic_more=""
  [ "$kozmic_count" -eq 2 ] && kozmic_more=" and 1 more new entry"
  [ "$kozmic_count" -gt 2 ] && kozmic_more=" and $((kozmic_count - 1)) more new entries"
  printf '%s\\n' "kozmic: warning: this install wrote /kozmic/src/\${kozmic_top#*	} ($kozmic_size)$kozmic_more, which the install cache does not keep: the build will not have it. Install outside /kozmic (for example under /opt or the user's home)."
fi
`;

/**
 * The container's command (`/bin/sh /kozmic/run.sh`): it exports the secrets and runs the
 * script from /kozmic/src, stderr joined to stdout so their lines keep their order. Secrets
 * become environment variables of the script's processes here, never of the container's
 * configuration (which a commit keeps). `printf x` keeps trailing newlines. An install's
 * helper waits for the script (no exec) to say what it left under /kozmic/src.
 */
export function stepHelper(
  script: string,
  secretNames: readonly string[],
  { install = false }: { install?: boolean } = {},
): string {
  const exports = secretNames.map(
    (name) =>
      `KOZMIC_VALUE=$(cat ${SECRETS_DIR}/${name}; printf x) || exit 125\n` +
      `export ${name}="\${KOZMIC_VALUE%x}"\n`,
  );
  const unset = secretNames.length > 0 ? "unset KOZMIC_VALUE\n" : "";
  const head = `#!/bin/sh\ncd /kozmic/src || exit 125\n${exports.join("")}${unset}`;
  const run = `${quotedInterpreter(script)} /kozmic/script.sh 2>&1`;
  if (!install) return `${head}exec ${run}\n`;
  return (
    `${head}kozmic_before="$(ls -A 2>/dev/null)"\n${run}\nkozmic_status=$?\n` +
    `if [ "$kozmic_status" -eq 0 ]; then\n${REPORT_WRITES}fi\nexit "$kozmic_status"\n`
  );
}

/**
 * Kozmic's files in a step's `/kozmic`: the helper, the script (`echoed`, its body when its
 * commands are echoed, with the file its trap writes), one 0400 file per secret.
 */
export function stepFiles(
  script: string,
  secrets: Record<string, string> = {},
  options: { install?: boolean; echoed?: EchoedScript } = {},
): ExtraFile[] {
  const entries = Object.entries(secrets);
  const { echoed } = options;
  return [
    { path: "run.sh", content: stepHelper(script, Object.keys(secrets), options), mode: 0o755 },
    { path: "script.sh", content: echoed?.body ?? script, mode: 0o644 },
    ...(echoed
      ? [{ path: FAILED_COMMAND_FILE.slice("/kozmic/".length), content: "", mode: 0o600 }]
      : []),
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
