import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunnerSettings } from "../../src/core/runner-settings.js";

const ID = /^[a-z0-9]{6}$/;

/**
 * The runner's settings with its name: KOZMIC_RUNNER_NAME when set, else
 * `<host name>-<id>`, the id made once and kept in the data directory. A runner removes at
 * start the containers labelled with its name, so two runners on one engine (two data
 * directories) must never share the host name as theirs.
 */
export function nameRunner(
  settings: RunnerSettings,
  env: Record<string, string | undefined>,
): RunnerSettings {
  if (env.KOZMIC_RUNNER_NAME?.trim()) return settings;
  const id = runnerId(settings.pipeline.dataDir);
  return { ...settings, name: `${settings.name.slice(0, 56)}-${id}` };
}

/** `<dataDir>/runner-id`, made on first use; a second process making it at once reads the first's. */
function runnerId(dataDir: string): string {
  const file = join(dataDir, "runner-id");
  const read = () => {
    try {
      const id = readFileSync(file, "utf8").trim();
      return ID.test(id) ? id : undefined;
    } catch {
      return undefined;
    }
  };
  const existing = read();
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const id = [...randomBytes(6)]
    .map((b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36])
    .join("");
  try {
    writeFileSync(file, `${id}\n`, { flag: "wx", mode: 0o600 });
    return id;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const theirs = read();
    if (!theirs) throw new Error(`${file} holds no runner id: remove it or set KOZMIC_RUNNER_NAME`);
    return theirs;
  }
}
