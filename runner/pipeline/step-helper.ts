import { scriptCommand } from "../../src/core/config/script-command.js";

/** Where a step's secrets are, one file each, on the `/kozmic` volume (never committed). */
export const SECRETS_DIR = "/kozmic/secrets";

/** Where, in /kozmic, the helper copies /etc/passwd once the first script succeeded. */
export const IMAGE_PASSWD = ".image-passwd";

/** What the runner writes to the helper's stdin to start the second script. */
export const CONTINUE_LINE = "build\n";

function quotedInterpreter(script: string): string {
  return scriptCommand(script)
    .interpreter.map((word) => `'${word.replace(/'/g, "'\\''")}'`)
    .join(" ");
}

/**
 * The container's command (`/bin/sh /kozmic/run.sh`): it exports the secrets and runs the
 * script from /kozmic/src, stderr joined to stdout so their lines keep their order.
 *
 * With `next` (an install then its build, in one container), the first script's end is
 * announced on stdout as `<token> <exit code>`, its leftover processes killed first so the
 * commit sees a quiet file system, as it would a stopped container, and /etc/passwd copied
 * to /kozmic/.image-passwd (the committed image's users). The helper then waits
 * for CONTINUE_LINE on stdin: by then the commit is done and the runner has replaced all
 * of /kozmic with a fresh copy of the source and /kozmic/next.sh.
 */
export function stepHelper(
  script: string,
  secretNames: readonly string[],
  next?: { script: string; token: string },
): string {
  // Secrets become environment variables of the scripts' processes here, never of the
  // container's configuration (which a commit keeps). `printf x` keeps trailing newlines.
  const exports = secretNames.map(
    (name) =>
      `KOZMIC_VALUE=$(cat ${SECRETS_DIR}/${name}; printf x) || exit 125\n` +
      `export ${name}="\${KOZMIC_VALUE%x}"\n`,
  );
  const unset = secretNames.length > 0 ? "unset KOZMIC_VALUE\n" : "";
  const head = `#!/bin/sh\ncd /kozmic/src || exit 125\n${exports.join("")}${unset}`;
  if (!next) return `${head}exec ${quotedInterpreter(script)} /kozmic/script.sh 2>&1\n`;
  return (
    head +
    `${quotedInterpreter(script)} /kozmic/script.sh </dev/null 2>&1\n` +
    "code=$?\n" +
    "kill -KILL -1 2>/dev/null\n" +
    // What the commit will hold, for the runner to remember without asking Docker for it.
    `[ "$code" -ne 0 ] || cat /etc/passwd > /kozmic/${IMAGE_PASSWD} 2>/dev/null || rm -f /kozmic/${IMAGE_PASSWD}\n` +
    `printf '%s %s\\n' '${next.token}' "$code"\n` +
    '[ "$code" -eq 0 ] || exit "$code"\n' +
    `read -r next && [ "$next" = ${CONTINUE_LINE.trim()} ] || exit 125\n` +
    "cd /kozmic/src || exit 125\n" +
    `exec ${quotedInterpreter(next.script)} /kozmic/next.sh </dev/null 2>&1\n`
  );
}
