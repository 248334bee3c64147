import type { ContainerLimits, Engine } from "../engine/port.js";
import { echoAtLineStarts } from "../logs/echo-line-starts.js";
import type { LogSink } from "../logs/log-sink.js";
import { lookupScriptUser } from "./image-users.js";
import { failedCommand, type EchoedScript } from "../../src/core/shell/echo-script.js";
import { echoedScript, FAILED_COMMAND_FILE, stepFiles } from "./step-files.js";
import { timed, type StepTimings } from "./step-timings.js";

/** One script of a job, in a fresh container of `image`. */
export interface StepSpec extends ContainerLimits {
  jobId: string;
  image: string;
  script: string;
  /** An install: the helper then says what the script left under /kozmic/src. */
  install?: boolean;
  /** A shell script's commands are echoed (`+ make`), and a failed one is named. */
  echo?: boolean;
  sourceDir: string;
  env: Record<string, string>;
  /**
   * Secrets by name: files under SECRETS_DIR (mode 0400, the script user's) that the helper
   * exports to the script's environment. Never in `env`, which is the container's.
   */
  secrets?: Record<string, string>;
  /** The hook's `user:`; undefined: the image's kozmic user, else its USER. */
  user?: string;
  /** Where what was read from an image is kept for later processes; Kozmic's own files. */
  dataDir?: string;
  /** Where the engine may write the step's `/kozmic` as a directory to bind-mount. */
  workspaceRoot?: string;
  /** Epoch ms after which the whole job is out of time. */
  deadline: number;
  stallTimeoutMs: number;
  signal?: AbortSignal;
  timings?: StepTimings;
  /**
   * Given the step's removal instead of it being awaited here. It always starts in
   * `finally`; the caller awaits it (a runner, before freeing the slot).
   */
  deferCleanup?: (removal: Promise<void>) => void;
  /**
   * Given the step once its script has ended, whatever its exit code, and after a timeout
   * (the killed container is still there), before it is destroyed: the build's reports and
   * artifacts. `exitCode` is the script's, undefined when it was stopped.
   */
  afterScript?: (stepId: string, exitCode: number | undefined) => Promise<void>;
}

export type StepOutcome =
  | {
      kind: "exited";
      exitCode: number;
      /** The echoed command that failed, as written (one line), when the shell could tell. */
      failedCommand?: string;
    }
  | { kind: "timed_out"; reason: string }
  | { kind: "cancelled" };

/** Kills the step when the job is out of time or the step is silent too long. */
function stepTimers(spec: StepSpec, kill: (outcome: StepOutcome) => void) {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    const left = spec.deadline - Date.now();
    const stall = left > spec.stallTimeoutMs;
    const reason = stall
      ? `stall timeout: no output for ${spec.stallTimeoutMs / 1000}s`
      : "job timeout reached";
    timer = setTimeout(
      () => kill({ kind: "timed_out", reason }),
      stall ? spec.stallTimeoutMs : Math.max(0, left),
    );
  };
  return { arm, clear: () => clearTimeout(timer) };
}

/**
 * Runs one script in a fresh container with a fresh `/kozmic` (the helper, the script, the
 * secrets, a copy of the source). When the script exits 0, `onSuccess` gets the exited
 * step (an install's commit) before it is destroyed. The step is destroyed whatever happens.
 */
export async function runStep(
  engine: Engine,
  spec: StepSpec,
  log: LogSink,
  onSuccess?: (stepId: string) => Promise<void>,
): Promise<StepOutcome> {
  if (spec.signal?.aborted) return { kind: "cancelled" };
  const t = spec.timings;
  const labels = { "kozmic.managed": "true", "kozmic.job": spec.jobId };
  const user = await timed(t, "script user", () =>
    lookupScriptUser(engine, spec.image, spec.user, { dataDir: spec.dataDir, labels }),
  );
  // Kozmic's own files are not the job's source, even when they live inside it (the
  // default data directory is ./.kozmic); a copy into itself would never end.
  const exclude = [spec.dataDir, spec.workspaceRoot].filter((path): path is string => !!path);
  const echoed = spec.echo ? echoedScript(spec.script) : undefined;
  const id = await engine.createStep({
    image: spec.image,
    env: spec.env,
    user: user.user,
    labels,
    memoryBytes: spec.memoryBytes,
    nanoCpus: spec.nanoCpus,
    pidsLimit: spec.pidsLimit,
    network: spec.network,
    noNewPrivileges: spec.noNewPrivileges,
    runtime: spec.runtime,
    files: {
      sourceDir: spec.sourceDir,
      uid: user.uid,
      gid: user.gid,
      extra: stepFiles(spec.script, spec.secrets, {
        install: spec.install === true,
        ...(echoed ? { echoed } : {}),
      }),
      exclude,
    },
    scratchDir: spec.workspaceRoot,
    timings: t,
  });
  let stop: StepOutcome | undefined;
  const kill = (outcome: StepOutcome) => {
    stop ??= outcome;
    void engine.killStep(id).catch(() => {});
  };
  const timers = stepTimers(spec, kill);
  const output = echoed
    ? echoAtLineStarts(log)
    : { write: (text: string) => log.write(text), end: () => {} };
  const onAbort = () => kill({ kind: "cancelled" });
  try {
    spec.signal?.addEventListener("abort", onAbort, { once: true });
    if (spec.signal?.aborted) return { kind: "cancelled" };
    timers.arm();
    const exitCode = await timed(t, "container run", () =>
      engine.runStep(id, (text) => {
        output.write(text);
        timers.arm();
      }),
    );
    output.end();
    timers.clear();
    if (stop?.kind !== "cancelled" && spec.afterScript)
      await spec.afterScript(id, stop ? undefined : exitCode);
    if (stop) return stop;
    if (exitCode === 0 && onSuccess) await onSuccess(id);
    const failed = exitCode !== 0 && echoed ? await readFailed(engine, id, echoed, exitCode) : "";
    return { kind: "exited", exitCode, ...(failed ? { failedCommand: failed } : {}) };
  } finally {
    output.end();
    timers.clear();
    spec.signal?.removeEventListener("abort", onAbort);
    const removal = engine.destroyStep(id, t);
    if (spec.deferCleanup) {
      removal.catch(() => {}); // the caller sees the failure when it awaits; none unhandled
      spec.deferCleanup(removal);
    } else await removal;
  }
}

/** The failed command an echoed script's trap recorded; naming it is never worth an error. */
async function readFailed(
  engine: Engine,
  id: string,
  echoed: EchoedScript,
  exitCode: number,
): Promise<string | undefined> {
  const status = await engine.readStepFile(id, FAILED_COMMAND_FILE, 64).catch(() => undefined);
  return failedCommand(status, echoed, exitCode);
}
