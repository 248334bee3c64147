import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Engine } from "../engine/port.js";
import { PermanentError } from "../../src/core/errors.js";
import type { RunnerSettings } from "../../src/core/runner-settings.js";
import { isLockStale, LOCK_HOLDER } from "../pipeline/key-lock.js";
import { otherHosts, RUNNER_LABEL } from "./label-engine.js";

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
  return { ...settings, name: withId(settings.name, id) };
}

/** The default name: the host's (cut to leave room for a Docker label value) and the id. */
const withId = (host: string, id: string) => `${host.slice(0, 56)}-${id}`;

/** `<dataDir>/runner-id` when it holds an id. */
function readRunnerId(dataDir: string): string | undefined {
  try {
    const id = readFileSync(join(dataDir, "runner-id"), "utf8").trim();
    return ID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** `<dataDir>/runner-id`, made on first use; a second process making it at once reads the first's. */
function runnerId(dataDir: string): string {
  const file = join(dataDir, "runner-id");
  const existing = readRunnerId(dataDir);
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
    const theirs = readRunnerId(dataDir);
    if (!theirs) throw new Error(`${file} holds no runner id: remove it or set KOZMIC_RUNNER_NAME`);
    return theirs;
  }
}

/**
 * Claims the runner's name on this host for this process: `<dataDir>/runners/<name>.pid`,
 * created exclusively. A second live process with the name (two `kozmic runner`s on one data
 * directory, or one KOZMIC_RUNNER_NAME given twice) is refused, since a runner removes the
 * containers labelled with its name when it starts. A file whose process is gone (or from
 * before a reboot) is taken over. `release` removes it.
 */
export function claimRunnerName(dataDir: string, name: string): { release(): void } {
  const dir = join(dataDir, "runners");
  const file = join(dir, `${name}.pid`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, LOCK_HOLDER, { flag: "wx", mode: 0o600 });
      return { release: () => rmSync(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = readFileSync(file, "utf8");
      if (attempt > 0 || !isLockStale(holder)) {
        throw new PermanentError(
          `another kozmic runner named ${name} is running on this host (pid ${holder.split(/\s+/)[0]}; ${file}): ` +
            "two runners with one name remove each other's job containers. Stop it, or give this one " +
            "its own KOZMIC_RUNNER_NAME (or its own KOZMIC_DATA_DIR)",
        );
      }
      rmSync(file, { force: true });
    }
  }
}

/** Who holds the runner's name on this host: its pid, when that process is alive. */
export function runnerNameHolder(dataDir: string, name: string): number | undefined {
  try {
    const holder = readFileSync(join(dataDir, "runners", `${name}.pid`), "utf8");
    return isLockStale(holder) ? undefined : Number(holder.split(/\s+/)[0]);
  } catch {
    return undefined;
  }
}

/** What a runner (or doctor) says when containers with its name come from other hosts. */
export function sharedNameWarning(hosts: readonly string[]): string {
  return (
    `containers of a runner with this name on ${hosts.length === 1 ? "host" : "hosts"} ${hosts.join(", ")} ` +
    "use this Docker engine: a runner removes the containers of its name when it starts, so each " +
    "runner on one engine needs its own KOZMIC_RUNNER_NAME (leave it unset for a unique one)"
  );
}

/**
 * `kozmic doctor`'s "runner name" line, changing nothing: the name a runner here would take,
 * whether a runner holds it on this host, and whether containers of another host's runner
 * with the same name use the engine.
 */
export async function describeRunnerName(
  engine: Pick<Engine, "listContainers">,
  settings: RunnerSettings,
  env: Record<string, string | undefined>,
): Promise<{ problem: boolean; detail: string }> {
  const explicit = env.KOZMIC_RUNNER_NAME?.trim();
  const id = explicit ? undefined : readRunnerId(settings.pipeline.dataDir);
  if (!explicit && !id)
    return {
      problem: false,
      detail: `made at the runner's first start: ${withId(settings.name, "<id>")}, the id kept in ${settings.pipeline.dataDir}`,
    };
  const name = explicit ? settings.name : withId(settings.name, id!);
  const others = otherHosts(await engine.listContainers({ [RUNNER_LABEL]: name }), hostname());
  if (others.length > 0) return { problem: true, detail: `${name}: ${sharedNameWarning(others)}` };
  const holder = runnerNameHolder(settings.pipeline.dataDir, name);
  return {
    problem: false,
    detail: `${name}${holder ? ` (a runner has it here: pid ${holder})` : ""}; no runner on another host uses it on this engine`,
  };
}
