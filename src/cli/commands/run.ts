import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, KozmicError } from "../../core/errors.js";
import { lookupRef } from "../../core/image-ref.js";
import { checkSecretName, checkSecretValue } from "../../core/secret-rules.js";
import { withPrefetchedImage } from "../../../runner/engine/prefetched-image.js";
import { dataDirFromEnv } from "../../settings/data-dir.js";
import type { ClosableCacheRecords } from "../../store/embedded-cache-records.js";
import type { DockerEngine } from "../../../runner/engine/docker-engine.js";
import { BUILD_ID } from "../build-id.js";
import { cachedConfig, cachedRunSettings } from "../cached-run-inputs.js";
import { ParsedCache } from "../parsed-cache.js";
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

/** What a run loads once its arguments are read; a run server loads it before its first run. */
export function loadRunModules() {
  return Promise.all([
    import("../../core/config/format-config-issues.js"),
    import("../../store/embedded-cache-records.js"),
    import("../../../runner/logs/terminal-sink.js"),
    import("../../../runner/logs/masking-sink.js"),
    import("../../../runner/logs/secret-masker.js"),
    import("../../../runner/pipeline/run-job.js"),
    import("../../../runner/source/resolve-tracked-files.js"),
    import("../../../runner/source/step-workspaces.js"),
  ]);
}

/** What a run server gives the runs it serves. */
export interface ServedRunOptions {
  /** Stands for the client's Ctrl-C and SIGTERM (without it, this process's own signals). */
  cancel?: AbortSignal;
  /**
   * The Docker engine for this environment's DOCKER_* settings, kept between runs, as a
   * runner keeps its one: the engine is asked once whether steps can bind their files.
   */
  dockerEngine?: () => DockerEngine;
  /** The cache records of a data directory, kept open between runs (a close keeps them). */
  openCacheRecords?: (dataDir: string) => ClosableCacheRecords;
}

/** `kozmic run`: runs a working tree's hooks with the real pipeline and cache. */
export async function main(args: string[], options: ServedRunOptions = {}): Promise<number> {
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
  let engine = options.dockerEngine?.();
  if (!engine) {
    const { DockerEngine } = await import("../../../runner/engine/docker-engine.js");
    engine = new DockerEngine();
  }
  void engine.bindsWorkspaces().catch(() => {});
  // What the run needs, loaded once the arguments are known to be good (`--help` needs none).
  const [
    { CONFIG_PATH, formatConfigIssuesForTerminal },
    { openEmbeddedCacheRecords },
    { createTerminalSink },
    { maskingSink },
    { SecretMasker },
    { runJob },
    { resolveTrackedFiles },
    { removeProcessWorkspaces },
  ] = await loadRunModules();
  // What an earlier run of this build validated: zod and the YAML parser are then not loaded.
  const cache = BUILD_ID ? new ParsedCache(dataDirFromEnv(process.env), BUILD_ID) : undefined;
  let settings;
  try {
    // Messages about limits speak of this machine's settings, not of a runner.
    settings = { ...(await cachedRunSettings(process.env, cache)), place: "this machine" };
  } catch (error) {
    return startFailure("kozmic run", error);
  }
  const dir = resolve(parsed.directory ?? ".");
  const file = join(dir, CONFIG_PATH);
  let text: string;
  try {
    // At once: a small file, and three round trips through libuv's thread pool cost a
    // served run 2-3 ms before its first Docker request.
    text = readFileSync(file, "utf8");
  } catch {
    console.error(`kozmic run: cannot read ${file}: is ${dir} a repository with Kozmic hooks?`);
    return 2;
  }
  try {
    const config = await cachedConfig(text, cache);
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
    const cacheRecords = (options.openCacheRecords ?? openEmbeddedCacheRecords)(settings.dataDir);
    const log = maskingSink(createTerminalSink(), new SecretMasker(Object.values(secrets)));
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    if (options.cancel) {
      if (options.cancel.aborted) controller.abort();
      else options.cancel.addEventListener("abort", onSignal, { once: true });
    } else {
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
    }
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
      options.cancel?.removeEventListener("abort", onSignal);
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
