import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { JobRecord, Store } from "../../src/store/port.js";
import type { StepTimings } from "../pipeline/step-timings.js";

/** The runner's Prometheus metrics, in a registry of the caller's (one per process or test). */
export interface RunnerMetrics {
  /**
   * `store` as the runner uses it, observed: a job's end (conclusion, phase durations, cache
   * hit or miss), its first claim (queue wait) and every log chunk stored (log bytes).
   */
  observeStore(store: Store): Store;
  /** Subscribes to the pipeline's step timings. */
  timings: StepTimings;
  /** Slots in use, read at each scrape, out of `total`. */
  trackSlots(busy: () => number, total: number): void;
  /** Why the host takes no jobs now (engine down, disk full), read at each scrape. */
  trackHost(problem: () => string | undefined): void;
}

const MINUTES = [0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/** The runner's metrics, registered in `registry`. */
function defineMetrics(
  registry: Registry,
  readBusy: () => number | undefined,
  readProblem: () => string | undefined | null,
) {
  const registers = [registry];
  const jobs = new Counter({
    name: "kozmic_runner_jobs_total",
    help: "Jobs this runner finished, by conclusion (success, failure, timed_out, cancelled, errored)",
    labelNames: ["conclusion"],
    registers,
  });
  const queueWait = new Histogram({
    name: "kozmic_runner_queue_wait_seconds",
    help: "From a job being queued (recorded and sent by the planner) to its first claim by a runner",
    buckets: MINUTES,
    registers,
  });
  const phases = new Histogram({
    name: "kozmic_runner_phase_seconds",
    help: "Time a finished job spent in each phase (pull, install, build)",
    labelNames: ["phase"],
    buckets: MINUTES,
    registers,
  });
  const steps = new Histogram({
    name: "kozmic_runner_step_seconds",
    help: "Duration of each step of a job (claim, fetch, container run, ...)",
    labelNames: ["step"],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 1800],
    registers,
  });
  const cache = new Counter({
    name: "kozmic_runner_cache_lookups_total",
    help: "Install cache lookups of finished jobs, by result (hit, miss)",
    labelNames: ["result"],
    registers,
  });
  const logBytes = new Counter({
    name: "kozmic_runner_log_bytes_total",
    help: "Bytes of job log stored",
    registers,
  });
  const slots = new Gauge({
    name: "kozmic_runner_slots",
    help: "Jobs this runner runs at once",
    registers,
  });
  new Gauge({
    name: "kozmic_runner_slots_busy",
    help: "Jobs running on this runner now",
    registers,
    collect() {
      const busy = readBusy();
      if (busy !== undefined) this.set(busy);
    },
  });
  new Gauge({
    name: "kozmic_runner_taking_jobs",
    help: "1 while this runner takes jobs; 0 while its host cannot run them (engine down, disk full)",
    registers,
    collect() {
      const problem = readProblem();
      if (problem !== null) this.set(problem === undefined ? 1 : 0);
    },
  });
  return { jobs, queueWait, phases, steps, cache, logBytes, slots };
}

type Metrics = ReturnType<typeof defineMetrics>;

/** A finished job's conclusion, phase durations and cache result. */
function observeEnd(m: Metrics, job: JobRecord): void {
  if (job.status === "errored") m.jobs.inc({ conclusion: "errored" });
  else if (job.status === "completed") m.jobs.inc({ conclusion: job.conclusion ?? "failure" });
  else return;
  for (const phase of ["pull", "install", "build"] as const) {
    const seconds = job.durations?.[phase];
    if (seconds !== undefined) m.phases.observe({ phase }, seconds);
  }
  if (job.cacheHit !== undefined) m.cache.inc({ result: job.cacheHit ? "hit" : "miss" });
}

/** `store`, its claims, transitions and log appends observed. */
function observedStore(m: Metrics, store: Store): Store {
  const observed: Partial<Store> = {
    async claimJob(id, owner, leaseMs, now) {
      const before = now ?? Date.now();
      const result = await store.claimJob(id, owner, leaseMs, now);
      // First claim only: a retry's wait would count the attempts before it.
      if (result.outcome === "claimed" && (result.job.startedAt ?? 0) >= before) {
        m.queueWait.observe(Math.max(0, before - result.job.createdAt) / 1000);
      }
      return result;
    },
    async transitionJob(id, from, update) {
      const job = await store.transitionJob(id, from, update);
      observeEnd(m, job);
      return job;
    },
    async appendLog(chunk) {
      await store.appendLog(chunk);
      m.logBytes.inc(Buffer.byteLength(chunk.data, "utf8"));
    },
  };
  return new Proxy(store, {
    get(target, key, receiver) {
      if (Object.hasOwn(observed, key)) return observed[key as keyof Store];
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === "function" ? (value as () => unknown).bind(target) : value;
    },
  });
}

export function createRunnerMetrics(registry: Registry): RunnerMetrics {
  let readBusy: (() => number) | undefined;
  let readProblem: (() => string | undefined) | undefined;
  // null: not tracked (yet), so the gauge is left unset.
  const m = defineMetrics(
    registry,
    () => readBusy?.(),
    () => (readProblem ? readProblem() : null),
  );
  return {
    observeStore: (store) => observedStore(m, store),
    timings(step, ms) {
      m.steps.observe({ step }, ms / 1000);
    },
    trackSlots(busy, total) {
      m.slots.set(total);
      readBusy = busy;
    },
    trackHost(problem) {
      readProblem = problem;
    },
  };
}
