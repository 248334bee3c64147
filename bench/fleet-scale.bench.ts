/**
 * Throughput of one queue drained by 1, 5, 10, 25 and 50 runner loops in this process
 * (fake engine, fake GitHub, stand-in source, write pacing off), on the embedded adapters
 * (SQLite) and on SQS + DynamoDB (ElasticMQ, DynamoDB Local, when test/support/services.sh
 * has started them), each against the same backend's 1 runner. Then the full run the issue
 * names: 2,000 jobs through 50 runners. Where the time goes, per point: CPU used by this
 * process (cores), event-loop delay (the one thread all runners share: SQLite's
 * synchronous, fsync'd commits block it), queue receive latency (of receives that returned
 * jobs), store call latency and calls per job, and the claims lost to another runner.
 *   source test/support/services.sh && start_services && npx tsx bench/fleet-scale.bench.ts
 * BENCH_FLEET_JOBS (default 200) jobs per point; BENCH_FLEET_FULL (2000) in the full run;
 * BENCH_FLEET_BACKENDS=embedded or aws for one of them only.
 */
import { loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { InspectableQueue } from "../src/queue/port.js";
import type { Store } from "../src/store/port.js";
import {
  awsBackend,
  embeddedBackend,
  FleetScene,
  type FleetBackend,
} from "../test/support/fleet.js";
import { testServices } from "../test/support/services.js";

const POINT_JOBS = Number(process.env.BENCH_FLEET_JOBS ?? 200);
const FULL_JOBS = Number(process.env.BENCH_FLEET_FULL ?? 2000);
const RUNNER_COUNTS = [1, 5, 10, 25, 50];

/** Calls and their summed latency, per `<port>.<method>`. */
class CallTimes {
  readonly calls = new Map<string, { count: number; ms: number }>();
  /** Receives that returned at least one job: what a runner waits for its next job. */
  readonly fullReceives = { count: 0, ms: 0 };
  held = 0;

  wrap<T extends object>(target: T, prefix: string): T {
    return new Proxy(target, {
      get: (object, name, receiver) => {
        const value = Reflect.get(object, name, receiver) as unknown;
        if (typeof value !== "function" || typeof name !== "string") return value;
        return async (...args: unknown[]) => {
          const start = performance.now();
          const result = (await (value as (...a: unknown[]) => Promise<unknown>).apply(
            object,
            args,
          )) as unknown;
          const ms = performance.now() - start;
          const entry = this.calls.get(`${prefix}.${name}`) ?? { count: 0, ms: 0 };
          entry.count += 1;
          entry.ms += ms;
          this.calls.set(`${prefix}.${name}`, entry);
          if (name === "receive" && Array.isArray(result) && result.length > 0) {
            this.fullReceives.count += 1;
            this.fullReceives.ms += ms;
          }
          if (name === "claimJob" && (result as { outcome: string }).outcome === "held")
            this.held += 1;
          return result;
        };
      },
    });
  }

  total(prefix: string): { count: number; ms: number } {
    let count = 0;
    let ms = 0;
    for (const [name, entry] of this.calls) {
      if (!name.startsWith(prefix)) continue;
      count += entry.count;
      ms += entry.ms;
    }
    return { count, ms };
  }
}

interface Point {
  backend: string;
  runners: number;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  cores: number;
  loopP50: number;
  loopP99: number;
  receiveMs: number;
  storeMs: number;
  storeCallsPerJob: number;
  queueCallsPerJob: number;
  held: number;
}

async function measure(
  open: () => Promise<FleetBackend> | FleetBackend,
  runners: number,
  jobs: number,
): Promise<Point> {
  const backend = await open();
  const scene = await FleetScene.start([1]);
  const times = new CallTimes();
  const timed: FleetBackend = {
    ...backend,
    queue: times.wrap(backend.queue, "queue") as InspectableQueue,
  };
  try {
    const ids = await scene.enqueue(backend, jobs, 1);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    const cpu = process.cpuUsage();
    const start = performance.now();
    delay.enable();
    scene.startRunners(timed, runners, { store: (store: Store) => times.wrap(store, "store") });
    await scene.untilCompleted(ids, 3_600_000);
    const seconds = (performance.now() - start) / 1000;
    delay.disable();
    const used = process.cpuUsage(cpu);
    await scene.stopRunners();
    const tally = scene.tally(ids);
    const wrong =
      tally.notRunOnce.length + tally.notClaimedOnce.length + tally.notReportedOnce.length;
    if (wrong > 0) {
      console.log(
        `${backend.name}, ${runners} runners: ${tally.notRunOnce.length} jobs not run once, ` +
          `${tally.notClaimedOnce.length} not claimed once, ${tally.notReportedOnce.length} not reported once; ` +
          `the runners said:\n${scene.warnings.join("\n")}`,
      );
    }
    const store = times.total("store.");
    const queue = times.total("queue.");
    return {
      backend: backend.name,
      runners,
      jobs,
      seconds,
      jobsPerSecond: jobs / seconds,
      cores: (used.user + used.system) / 1e6 / seconds,
      loopP50: delay.percentile(50) / 1e6,
      loopP99: delay.percentile(99) / 1e6,
      receiveMs: times.fullReceives.ms / Math.max(1, times.fullReceives.count),
      storeMs: store.ms / Math.max(1, store.count),
      storeCallsPerJob: store.count / jobs,
      queueCallsPerJob: queue.count / jobs,
      held: times.held,
    };
  } finally {
    await scene.close();
    await backend.close();
  }
}

const backends: [string, () => Promise<FleetBackend> | FleetBackend][] = [];
if (process.env.BENCH_FLEET_BACKENDS !== "aws") backends.push(["embedded", embeddedBackend]);
if (
  process.env.AWS_ENDPOINT_URL_SQS &&
  process.env.AWS_ENDPOINT_URL_DYNAMODB &&
  process.env.BENCH_FLEET_BACKENDS !== "embedded"
) {
  backends.push(["aws", () => awsBackend(testServices())]);
} else {
  console.log("ElasticMQ/DynamoDB Local not started: measuring the embedded adapters only");
}

const f = (n: number, digits = 1) => n.toFixed(digits);
function print(point: Point, baseline: number): void {
  console.log(
    `${point.backend.padEnd(46)} ${String(point.runners).padStart(3)} runners ${String(point.jobs).padStart(5)} jobs ` +
      `${f(point.seconds).padStart(7)} s ${f(point.jobsPerSecond, 2).padStart(6)} jobs/s x${f(point.jobsPerSecond / baseline, 2)} | ` +
      `cpu ${f(point.cores, 2)} cores, loop delay p50 ${f(point.loopP50)} p99 ${f(point.loopP99)} ms, ` +
      `receive ${f(point.receiveMs)} ms, store call ${f(point.storeMs)} ms x${f(point.storeCallsPerJob)}/job, ` +
      `queue calls ${f(point.queueCallsPerJob)}/job, claims held by another ${point.held}`,
  );
}

for (const [, open] of backends) {
  let baseline = 0;
  for (const runners of RUNNER_COUNTS) {
    const point = await measure(open, runners, POINT_JOBS);
    baseline ||= point.jobsPerSecond;
    print(point, baseline);
  }
  if (FULL_JOBS > 0) print(await measure(open, 50, FULL_JOBS), baseline);
  console.log(
    `load average ${loadavg()
      .map((n) => n.toFixed(1))
      .join(" ")}`,
  );
}
