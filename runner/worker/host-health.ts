import type { StatsFs } from "node:fs";
import { statfs } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Engine } from "../engine/port.js";
import type { LineLog } from "./worker-context.js";

/** One thing a host needs to run jobs: undefined when it has it, else why not (a phrase). */
export type HostCheck = () => Promise<string | undefined>;

/**
 * Whether this host may take jobs. A job received while the engine is down or the disk is
 * full would fail here and spend one of its attempts: the runner asks before each receive,
 * and while a check fails it receives nothing and asks again every `pollMs`.
 */
export class HostHealth {
  private current: string | undefined;

  constructor(
    private readonly checks: readonly HostCheck[],
    private readonly log: LineLog,
    private readonly pollMs = 2_000,
  ) {}

  /** Why this host takes no jobs now; undefined while it takes them. */
  get problem(): string | undefined {
    return this.current;
  }

  /** Resolves once every check passes (at once when they do), or when `signal` aborts. */
  async whenFit(signal: AbortSignal): Promise<void> {
    for (;;) {
      const problem = await this.firstProblem();
      if (problem !== this.current) {
        if (problem) this.log(`not taking jobs: ${problem}`, "warn");
        else this.log(`taking jobs again (${this.current}: no more)`);
        this.current = problem;
      }
      if (!problem || signal.aborted) return;
      await sleep(this.pollMs, undefined, { signal }).catch(() => {});
    }
  }

  private async firstProblem(): Promise<string | undefined> {
    for (const check of this.checks) {
      const problem = await check().catch((error: unknown) => (error as Error).message);
      if (problem) return problem;
    }
    return undefined;
  }
}

/** The container engine answers. */
export function engineAnswers(engine: Pick<Engine, "ping">): HostCheck {
  return () => engine.ping().then(() => undefined);
}

/** Free space under which a disk counts as full: 5% of it, at most 1 GiB. */
export function minFreeBytes(totalBytes: number): number {
  return Math.min(1024 ** 3, totalBytes * 0.05);
}

const mib = (bytes: number) => `${Math.floor(bytes / 1024 ** 2)} MiB`;

/** The disk `path` will be on: its own, or its nearest existing parent's until it is made. */
async function statfsOfNearest(path: string): Promise<StatsFs> {
  for (let at = path; ; at = dirname(at)) {
    try {
      return await statfs(at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || dirname(at) === at) throw error;
    }
  }
}

async function roomProblem(path: string): Promise<string | undefined> {
  const fs = await statfsOfNearest(path);
  const free = fs.bavail * fs.bsize;
  const total = fs.blocks * fs.bsize;
  if (free >= minFreeBytes(total)) return undefined;
  return `the disk under ${path} is full (${mib(free)} free of ${mib(total)}, less than ${mib(minFreeBytes(total))})`;
}

/**
 * The disk under `path` has room: at least minFreeBytes of it free. When it has not,
 * `freeSpace` runs first (once each time the disk runs short) and the disk is asked again.
 */
export function diskHasRoom(path: string, freeSpace?: () => Promise<void>): HostCheck {
  let freed = false;
  return async () => {
    let problem = await roomProblem(path);
    if (problem && freeSpace && !freed) {
      freed = true;
      await freeSpace().catch(() => undefined);
      problem = await roomProblem(path);
    }
    if (!problem) freed = false;
    return problem;
  };
}

/**
 * An error's text with the disk named when the error is a full disk's (ENOSPC). The code
 * only as a word in capitals: the text may name a repository or branch such as "enospc-fix".
 */
export function nameFullDisk(text: string, dataDir: string): string {
  if (!/\bENOSPC\b/.test(text) && !/no space left on device/i.test(text)) return text;
  return `a disk of this host is full (the data directory is ${dataDir}): ${text}`;
}
