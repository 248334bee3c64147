import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { withPrefetchedImage } from "../../runner/engine/prefetched-image.js";
import { maskingSink, SecretMasker } from "../../runner/logs/secret-masker.js";
import { terminalSections } from "../../runner/logs/terminal-sections.js";
import { createTerminalSink } from "../../runner/logs/terminal-sink.js";
import { runJob } from "../../runner/pipeline/run-job.js";
import { resolveTrackedFiles } from "../../runner/source/resolve-tracked-files.js";
import { removeProcessWorkspaces } from "../../runner/source/step-workspaces.js";
import { CONFIG_PATH, formatConfigIssuesForTerminal } from "../core/config/format-config-issues.js";
import { parseConfig } from "../core/config/parse-config.js";
import { ConfigError, KozmicError } from "../core/errors.js";
import { lookupRef } from "../core/image-ref.js";
import { expandMatrix, orderByNeeds } from "../core/plan-jobs.js";
import { ENTRY_POINT_GROUPS, readSettings } from "../settings/read-settings.js";
import { openEmbeddedCacheRecords } from "../store/embedded-cache-records.js";
import { summaryLine } from "./run-summary.js";
import type { Readable } from "node:stream";
import { writeFileUnder } from "../store/write-file-under.js";
import { startFailure } from "./start-failure.js";

/** `kozmic run`'s artifacts: files under `dir`, by their paths in the repository. */
function directorySink(dir: string, maxBytes: number) {
  return {
    dir,
    written: 0,
    maxBytes,
    async put(name: string, body: Readable, size: number): Promise<void> {
      await writeFileUnder(dir, name, body, size);
      this.written++;
    },
  };
}

/** A stable local repository id: the same directory always shares its cache. */
export function localRepositoryId(dir: string): string {
  return `local-${createHash("sha256").update(resolve(dir)).digest("hex").slice(0, 16)}`;
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

/**
 * `kozmic run`'s work once its arguments are read: runs the hooks named in `wanted` (all
 * when none) of the working tree `directory` with the real pipeline and cache, and returns
 * the exit code.
 */
export async function runHooks(
  directory: string,
  wanted: string[],
  secrets: Record<string, string>,
  artifactsDir: string,
): Promise<number> {
  // The engine is asked at once whether it can bind-mount a step's files (Docker's /info)
  // while the config is read.
  const engine = new DockerEngine();
  void engine.bindsWorkspaces().catch(() => {});
  let settings;
  let artifactMaxBytes;
  try {
    const read = readSettings(process.env, ENTRY_POINT_GROUPS.run);
    // Messages about limits speak of this machine's settings, not of a runner.
    settings = { ...read.pipeline, place: "this machine" };
    artifactMaxBytes = read.artifactSize.maxBytes;
  } catch (error) {
    return startFailure("kozmic run", error);
  }
  const dir = resolve(directory);
  const file = join(dir, CONFIG_PATH);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    console.error(
      `kozmic run: cannot read ${file}: is ${dir} a repository with Kozmic hooks? ` +
        `\`kozmic init ${directory}\` writes a starter one from the project's files`,
    );
    return 2;
  }
  try {
    const config = parseConfig(text);
    const all = config.hooks.flatMap(expandMatrix);
    const unknown = wanted.filter(
      (name) => !all.some((job) => job.name === name || job.hook.name === name),
    );
    if (unknown.length > 0) {
      console.error(
        `kozmic run: no hook named ${unknown.map((n) => `"${n}"`).join(", ")}; ` +
          `hooks: ${config.hooks.map((h) => `"${h.name}"`).join(", ")}`,
      );
      return 2;
    }
    // A matrix hook runs each combination, or the one named; a hook after those it needs.
    const jobs = orderByNeeds(
      wanted.length
        ? all.filter((job) => wanted.includes(job.name) || wanted.includes(job.hook.name))
        : all,
    );
    const hooks = jobs.map((job) => job.hook);
    // Before anything runs: every secret a chosen hook names must be given.
    const lacking = [
      ...new Set(
        hooks.flatMap((h) =>
          h.secrets.filter((name) => !(name in secrets)).map((name) => `"${h.name}" needs ${name}`),
        ),
      ),
    ];
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
    const terminal = createTerminalSink();
    const log = maskingSink(terminal, new SecretMasker(Object.values(secrets)));
    const sections = terminalSections(log, terminal);
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const results: string[] = [];
    let failed = false;
    /** Per hook run so far: whether every one of its jobs succeeded. */
    const succeeded = new Map<string, boolean>();
    try {
      for (const { hook, name, combo } of jobs) {
        const unmet = hook.needs?.find((need) => succeeded.get(need) === false);
        if (unmet) {
          results.push(`${name}: skipped (${unmet} did not succeed)`);
          succeeded.set(hook.name, false);
          continue;
        }
        const artifacts = directorySink(
          join(resolve(artifactsDir), name.replaceAll("/", "_")),
          artifactMaxBytes,
        );
        const result = await runJob(
          {
            jobId: randomUUID(),
            repositoryId: localRepositoryId(dir),
            scope: "trusted",
            hook,
            ...(combo ? { matrix: combo } : {}),
            sourceDir: dir,
            trackedFiles: await resolveTrackedFiles(dir, hook.tracked_files),
            secrets: Object.fromEntries(hook.secrets.map((name) => [name, secrets[name]!])),
          },
          {
            engine: jobEngine,
            settings,
            log,
            sections,
            cacheRecords,
            signal: controller.signal,
            artifacts,
          },
        );
        await log.flush();
        results.push(summaryLine(name, result));
        if (artifacts.written > 0) results.push(`  artifacts in ${artifacts.dir}`);
        const ok = result.conclusion === "success";
        succeeded.set(hook.name, (succeeded.get(hook.name) ?? true) && ok);
        if (!ok) failed = true;
        if (controller.signal.aborted) break;
      }
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await Promise.all([cacheRecords.close(), removeProcessWorkspaces(settings.dataDir)]);
    }
    console.log(`\n${results.join("\n")}`);
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
