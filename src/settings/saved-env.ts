import { lstatSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseEnv } from "node:util";
import { dataDirFromEnv } from "./data-dir.js";

export type SavedEnv =
  | { loaded: string }
  | { absent: string }
  /** Not read: a file anyone else could have written, or a link. */
  | { refused: string; reason: string };

/**
 * Reads `<data dir>/.env` (what `kozmic serve`'s set-up saved) into `env` for the variables
 * the environment leaves unset or blank. Only a regular file of this user that no one else may read
 * or write (set-up writes it 0600): a repository that ships `.kozmic/.env` gets 0644 from
 * git and is refused, so running Kozmic in a checkout never takes its settings.
 */
export function loadSavedEnv(env: NodeJS.ProcessEnv = process.env): SavedEnv {
  const file = join(resolve(dataDirFromEnv(env)), ".env");
  let stats;
  try {
    stats = lstatSync(file);
  } catch {
    return { absent: file };
  }
  const uid = process.getuid?.();
  const reason = !stats.isFile()
    ? "not a regular file"
    : uid !== undefined && stats.uid !== uid
      ? `owned by uid ${stats.uid}, not this user`
      : (stats.mode & 0o077) !== 0
        ? `mode ${(stats.mode & 0o777).toString(8)}: others may read or write it (set-up writes 600)`
        : undefined;
  if (reason) return { refused: file, reason };
  for (const [key, value] of Object.entries(parseEnv(readFileSync(file, "utf8")))) {
    if (!env[key]?.trim()) env[key] = value;
  }
  return { loaded: file };
}
