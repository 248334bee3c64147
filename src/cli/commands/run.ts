import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, KozmicError } from "../../core/errors.js";
import { lookupRef } from "../../core/image-ref.js";
import { checkSecretName, checkSecretValue } from "../../core/secret-rules.js";
import { withPrefetchedImage } from "../../../runner/engine/prefetched-image.js";
import { parseDirectoryArgs } from "../parse-directory-args.js";
import { startFailure } from "../start-failure.js";

const USAGE =
  "usage: kozmic run [DIR] [--hook NAME]... [--secret NAME]...\n" +
  "  --secret NAME  give hooks that name secret NAME the value of this environment variable";

/** A stable local repository id: the same directory always shares its cache. */
export function localRepositoryId(dir: string): string {
  return `local-${createHash("sha256").update(resolve(dir)).digest("hex").slice(0, 16)}`;
}

/**
 * The values of `--secret` names from this process's environment, or what is wrong with
 * them (never the value).
 */
function secretsFromEnv(names: string[]): Record<string, string> | string {
  const values: Record<string, string> = {};
  for (const name of names) {
    const problem = checkSecretName(name);
    if (problem) return `--secret ${name}: ${problem}`;
    const value = process.env[name];
    if (value === undefined) {
      return `--secret ${name}: the environment variable ${name} is not set; set it to the value`;
    }
    const bad = checkSecretValue(value);
    if (bad) return `--secret ${name}: ${bad}`;
    values[name] = value;
  }
  return values;
}

/**
 * What stops the data directory from being made or written (a read-only or foreign working
 * directory, where it defaults to ./.kozmic), in the system's words; undefined for other
 * errors, which are bugs.
 */
function unwritable(error: unknown, dataDir: string): string | undefined {
  const e = error as { code?: unknown; syscall?: unknown; message?: unknown };
  if (typeof e.code !== "string") return undefined;
  if (e.syscall === "mkdir" && e.code === "ENOENT") {
    // Node 20's recursive mkdir says ENOENT where the parent is read-only: ask it plainly.
    try {
      mkdirSync(dataDir);
    } catch (plain) {
      return (plain as Error).message;
    }
  }
  if (typeof e.syscall === "string") return String(e.message);
  // better-sqlite3's own: the file cannot be opened or written.
  return /^SQLITE_(CANTOPEN|READONLY|PERM|IOERR)/.test(e.code) ? String(e.message) : undefined;
}

/** `kozmic run`: runs a working tree's hooks with the real pipeline and cache. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseDirectoryArgs("run", USAGE, args, {
    hook: { type: "string", multiple: true },
    secret: { type: "string", multiple: true },
  });
  if (typeof parsed === "number") return parsed;
  const secrets = secretsFromEnv(parsed.values.secret ?? []);
  if (typeof secrets === "string") {
    console.error(`kozmic run: ${secrets}`);
    return 2;
  }
  // The Docker client first: the engine is asked whether it can bind-mount a step's files
  // (Docker's /info, 30-80 ms on its side) while the rest loads and the config is read.
  const { DockerEngine } = await import("../../../runner/engine/docker-engine.js");
  const engine = new DockerEngine();
  void engine.bindsWorkspaces().catch(() => {});
  // What the run needs, loaded once the arguments are known to be good (`--help` needs none).
  const [
    { readRunSettings },
    { parseConfig },
    { CONFIG_PATH, formatConfigIssuesForTerminal },
    { openEmbeddedCacheRecords },
    { createTerminalSink },
    { maskingSink },
    { SecretMasker },
    { runJob },
    { resolveTrackedFiles },
    { removeProcessWorkspaces },
  ] = await Promise.all([
    import("../../settings/pipeline-entry-points.js"),
    import("../../core/config/parse-config.js"),
    import("../../core/config/format-config-issues.js"),
    import("../../store/embedded-cache-records.js"),
    import("../../../runner/logs/terminal-sink.js"),
    import("../../../runner/logs/masking-sink.js"),
    import("../../../runner/logs/secret-masker.js"),
    import("../../../runner/pipeline/run-job.js"),
    import("../../../runner/source/resolve-tracked-files.js"),
    import("../../../runner/source/step-workspaces.js"),
  ]);
  let settings;
  try {
    // Messages about limits speak of this machine's settings, not of a runner.
    settings = { ...readRunSettings(process.env), place: "this machine" };
  } catch (error) {
    return startFailure("kozmic run", error);
  }
  const dir = resolve(parsed.directory ?? ".");
  const file = join(dir, CONFIG_PATH);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    console.error(`kozmic run: cannot read ${file}: is ${dir} a repository with Kozmic hooks?`);
    return 2;
  }
  try {
    const config = parseConfig(text);
    const wanted = parsed.values.hook ?? [];
    const unknown = wanted.filter((name) => !config.hooks.some((h) => h.name === name));
    if (unknown.length > 0) {
      console.error(
        `kozmic run: no hook named ${unknown.map((n) => `"${n}"`).join(", ")}; ` +
          `hooks: ${config.hooks.map((h) => `"${h.name}"`).join(", ")}`,
      );
      return 2;
    }
    const hooks = wanted.length
      ? config.hooks.filter((h) => wanted.includes(h.name))
      : config.hooks;
    // Before anything runs: every secret a chosen hook names must be given.
    const lacking = hooks.flatMap((h) =>
      h.secrets.filter((name) => !(name in secrets)).map((name) => `"${h.name}" needs ${name}`),
    );
    if (lacking.length > 0) {
      console.error(
        `kozmic run: hook ${lacking.join(", ")}: give each with --secret NAME, its value in the ` +
          "environment variable NAME",
      );
      return 2;
    }
    // The first hook's image, asked for now: Docker answers while the job writes its first
    // log lines and reads its tracked files.
    const first = hooks[0];
    const jobEngine =
      first && first.pull !== "always"
        ? withPrefetchedImage(engine, lookupRef(first.image))
        : engine;
    // The local record of what this machine's `kozmic run` committed to its install cache.
    let cacheRecords;
    try {
      cacheRecords = openEmbeddedCacheRecords(settings.dataDir);
    } catch (error) {
      const problem = unwritable(error, settings.dataDir);
      if (!problem) throw error;
      console.error(
        `kozmic run: cannot write the data directory ${resolve(settings.dataDir)} (${problem}): ` +
          "run it where you can write, or set KOZMIC_DATA_DIR to a directory you can write",
      );
      return 2;
    }
    const log = maskingSink(createTerminalSink(), new SecretMasker(Object.values(secrets)));
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const results: string[] = [];
    let failed = false;
    try {
      for (const hook of hooks) {
        const jobId = randomUUID();
        log.write(
          `==> job ${jobId} (its containers and volumes carry the label kozmic.job=${jobId})\n`,
        );
        const result = await runJob(
          {
            jobId,
            repositoryId: localRepositoryId(dir),
            scope: "trusted",
            hook,
            sourceDir: dir,
            trackedFiles: await resolveTrackedFiles(dir, hook.tracked_files),
            secrets: Object.fromEntries(hook.secrets.map((name) => [name, secrets[name]!])),
          },
          { engine: jobEngine, settings, log, cacheRecords, signal: controller.signal },
        );
        await log.flush();
        results.push(`${hook.name}: ${result.conclusion}`);
        if (result.conclusion !== "success") failed = true;
        if (controller.signal.aborted) break;
      }
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await Promise.all([cacheRecords.close(), removeProcessWorkspaces(settings.dataDir)]);
    }
    console.log(results.join("\n"));
    return failed ? 1 : 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(formatConfigIssuesForTerminal(error.issues, text, file));
      return 2;
    }
    if (error instanceof KozmicError) {
      console.error(`kozmic run: ${error.message}`);
      return error.transient ? 3 : 2;
    }
    const e = error as NodeJS.ErrnoException;
    if (e.syscall === "connect") {
      console.error(
        `kozmic run: cannot reach the Docker engine (${e.code ?? e.message}); is it running? ` +
          "Check `docker info` and DOCKER_HOST.",
      );
      return 3;
    }
    throw error;
  }
}
