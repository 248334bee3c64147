import { parseArgs } from "node:util";
import { KozmicError } from "../../core/errors.js";
import { printTable, when } from "../print-table.js";
import { startFailure } from "../start-failure.js";

const USAGE = "usage: kozmic cache ls | kozmic cache prune [--keep N] [--max-bytes SIZE]";

function size(bytes: number): string {
  return bytes >= 1024 ** 2
    ? `${(bytes / 1024 ** 2).toFixed(1)}MB`
    : `${(bytes / 1024).toFixed(1)}kB`;
}

/** `kozmic cache ls` and `kozmic cache prune`. */
export async function main(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h") {
    console.log(USAGE);
    return 0;
  }
  if (sub !== "ls" && sub !== "prune") {
    console.error(USAGE);
    return 2;
  }
  const [{ parseBytes }, reader, { DockerEngine }, { listCache }, { pruneCache }] =
    await Promise.all([
      import("../../core/duration.js"),
      import("../../settings/read-settings.js"),
      import("../../../runner/engine/docker-engine.js"),
      import("../../../runner/cache/list-cache.js"),
      import("../../../runner/cache/prune-cache.js"),
    ]);
  let settings;
  try {
    settings = reader.readSettings(process.env, reader.ENTRY_POINT_GROUPS.cache).pipeline;
  } catch (error) {
    return startFailure("kozmic cache", error);
  }
  try {
    const engine = new DockerEngine();
    if (sub === "ls") {
      const entries = await listCache(engine, settings.dataDir);
      printTable([
        ["KEY", "REPOSITORY", "HOOK", "SCOPE", "SIZE", "CREATED", "LAST USED"],
        ...entries.map((e) => [
          e.key.slice(0, 16),
          e.repositoryId,
          e.hook,
          e.scope,
          size(e.size),
          when(e.created),
          when(e.lastUsed),
        ]),
      ]);
      return 0;
    }
    // prune
    const { values } = parseArgs({
      args: rest,
      options: { keep: { type: "string" }, "max-bytes": { type: "string" } },
    });
    const keep = values.keep === undefined ? settings.cacheKeep : Number(values.keep);
    if (!Number.isInteger(keep) || keep < 0) {
      console.error(`kozmic cache prune: --keep expects a whole number, got "${values.keep}"`);
      return 2;
    }
    const maxBytes =
      values["max-bytes"] === undefined ? settings.cacheMaxBytes : parseBytes(values["max-bytes"]);
    if (values["max-bytes"] !== undefined && maxBytes === undefined) {
      console.error(
        `kozmic cache prune: --max-bytes expects a size such as "5g", got "${values["max-bytes"]}"`,
      );
      return 2;
    }
    const removed = await pruneCache(engine, settings, undefined, {
      keep,
      ...(maxBytes !== undefined ? { maxBytes } : {}),
    });
    for (const e of removed)
      console.log(`removed ${e.key.slice(0, 16)} ${e.repositoryId} ${e.hook} ${size(e.size)}`);
    console.log(`${removed.length} cache image(s) removed`);
    return 0;
  } catch (error) {
    if (error instanceof KozmicError || (error as Error).name === "TypeError") {
      console.error(`kozmic cache: ${(error as Error).message}`);
      return 2;
    }
    throw error;
  }
}
