import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Hook } from "../../src/core/config/schema.js";
import type { JobContext } from "./job-context.js";
import { resolveBaseImage } from "./resolve-base-image.js";

/** How much of a health command's output the log keeps: its last bytes. */
const HEALTH_OUTPUT_BYTES = 2000;
/** How much of a service's own output the log keeps: its last bytes. */
const SERVICE_OUTPUT_BYTES = 64 * 1024;
const CHECK_INTERVAL_MS = 1000;

/** A job's services once each is up: the network the build joins, and their teardown. */
export interface JobServices {
  network: string;
  /** Writes each service's output so far into the log's own section. */
  writeOutput(): void;
  /** Removes the services' containers, then the network. Idempotent. */
  remove(): Promise<void>;
}

/** Why the services did not come up: a line for the log, and whether the job was cancelled. */
export interface ServicesFailure {
  failure: string;
  cancelled?: boolean;
}

interface Started {
  name: string;
  id: string;
  output: string;
}

/**
 * The job's own network: internal (no route out) when the job's network is `none` or one
 * the runner's operator named, a plain bridge when it is Docker's bridge or the host's
 * (which a container on a bridge cannot share).
 */
function networkOf(ctx: JobContext): { name: string; internal: boolean } {
  const jobNetwork = ctx.stepBase.network;
  const suffix = ctx.job.jobId.replace(/[^A-Za-z0-9_.-]/g, "").slice(0, 40);
  return {
    name: `kozmic-job-${suffix}-${randomUUID().slice(0, 8)}`,
    internal: jobNetwork !== "bridge" && jobNetwork !== "host",
  };
}

/**
 * Starts the hook's services on a network of the job's own, each reachable at its name,
 * with the job's limits, and waits for each health command to pass. On a failure, what was
 * started is removed before it returns.
 */
export async function startJobServices(ctx: JobContext): Promise<JobServices | ServicesFailure> {
  const { engine } = ctx.options;
  const services = Object.entries(ctx.job.hook.services ?? {});
  const labels = { "kozmic.managed": "true", "kozmic.job": ctx.job.jobId };
  const network = networkOf(ctx);
  ctx.sections.start("services", `Services: ${services.map(([name]) => name).join(", ")}`);
  ctx.say(
    `network ${network.name}` +
      (network.internal ? ` (no route out: the job's network is ${ctx.stepBase.network})` : ""),
  );
  const started: Started[] = [];
  let removed: Promise<void> | undefined;
  const remove = () =>
    (removed ??= (async () => {
      for (const service of started) await engine.removeService(service.id);
      await engine.removeNetwork(network.name);
    })());
  const up: JobServices = {
    network: network.name,
    writeOutput: () => writeOutput(ctx, started),
    remove,
  };
  try {
    await engine.createNetwork({ ...network, labels });
    for (const [name, service] of services) {
      const image = await resolveBaseImage(
        engine,
        { image: service.image, pull: ctx.job.hook.pull },
        (line) => ctx.say(line),
      );
      started.push(
        await startService(ctx, { network: network.name, labels, image: image.id }, name, service),
      );
    }
    const failures = await Promise.all(started.map((s) => waitHealthy(ctx, s)));
    const failed = failures.find((f) => f !== undefined);
    if (!failed) return up;
    if (!failed.cancelled) ctx.say(failed.failure);
    up.writeOutput();
    await remove();
    return failed;
  } catch (error) {
    await remove().catch(() => {});
    throw error;
  }
}

/** Starts one service from the image `on.image` (its ID, as looked up), on the job's network. */
async function startService(
  ctx: JobContext,
  on: { network: string; labels: Record<string, string>; image: string },
  name: string,
  service: NonNullable<Hook["services"]>[string],
): Promise<Started> {
  const base = ctx.stepBase;
  const entry: Started = { name, id: "", output: "" };
  entry.id = await ctx.options.engine.startService(
    {
      ...on,
      cmd: service.command,
      env: service.env,
      memoryBytes: base.memoryBytes,
      nanoCpus: base.nanoCpus,
      pidsLimit: base.pidsLimit,
      alias: name,
      noNewPrivileges: base.noNewPrivileges,
      runtime: base.runtime,
    },
    (text) => {
      entry.output = (entry.output + text).slice(-SERVICE_OUTPUT_BYTES);
    },
  );
  ctx.say(`service ${name}: ${service.image} started`);
  return entry;
}

/** Runs the service's health command until it passes; a failure's line, else undefined. */
async function waitHealthy(
  ctx: JobContext,
  service: Started,
): Promise<ServicesFailure | undefined> {
  const config = ctx.job.hook.services![service.name]!;
  if (!config.health) return undefined;
  const { engine, signal } = ctx.options;
  const started = Date.now();
  const deadline = Math.min(started + config.health_timeout * 1000, ctx.stepBase.deadline);
  let checks = 0;
  let last = { exitCode: -1, output: "" };
  for (;;) {
    if (signal?.aborted) return { failure: "cancelled", cancelled: true };
    checks += 1;
    const check = await untilDeadline(
      engine.execInService(service.id, ["/bin/sh", "-c", config.health], HEALTH_OUTPUT_BYTES),
      deadline,
      signal,
    );
    if (check === "hung") {
      if (signal?.aborted) return { failure: "cancelled", cancelled: true };
      return {
        failure:
          `service ${service.name} never became healthy in ${config.health_timeout}s: ` +
          `\`${config.health}\` was still running at the timeout`,
      };
    }
    if (!check) {
      return {
        failure: `service ${service.name} stopped before it became healthy (its output is below)`,
      };
    }
    if (check.exitCode === 0) {
      const took = ((Date.now() - started) / 1000).toFixed(1);
      ctx.say(`service ${service.name}: healthy after ${took}s (${checks} checks)`);
      return undefined;
    }
    last = check;
    if (Date.now() + CHECK_INTERVAL_MS > deadline) break;
    await sleep(CHECK_INTERVAL_MS, undefined, signal ? { signal } : {}).catch(() => {});
  }
  const said = last.output.trim().replace(/\s*\n\s*/g, " | ") || "(no output)";
  return {
    failure:
      `service ${service.name} never became healthy in ${config.health_timeout}s: ` +
      `\`${config.health}\` last exited ${last.exitCode}: ${said}`,
  };
}

/** A check that hangs is given up at the deadline (its process goes with the container). */
async function untilDeadline<T>(
  check: Promise<T>,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<T | "hung"> {
  const giveUp = new AbortController();
  const onAbort = () => giveUp.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await Promise.race([
      check,
      sleep(Math.max(0, deadline - Date.now()), "hung" as const, { signal: giveUp.signal }).catch(
        () => "hung" as const,
      ),
    ]);
  } finally {
    giveUp.abort();
    signal?.removeEventListener("abort", onAbort);
  }
}

function writeOutput(ctx: JobContext, started: Started[]): void {
  const said = started.filter((s) => s.output !== "");
  if (said.length === 0) return;
  ctx.sections.start("services", "Services' output");
  for (const service of said) {
    ctx.say(`output of service ${service.name}`);
    const text = service.output.endsWith("\n") ? service.output : `${service.output}\n`;
    ctx.options.log.write(text);
  }
}
