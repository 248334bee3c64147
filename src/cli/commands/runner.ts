import type { LineLog } from "../../../runner/worker/worker-context.js";
import type { DrainSettings } from "../../settings/host-settings.js";
import { startFailure } from "../start-failure.js";

const USAGE = "usage: kozmic runner   (settings come from the environment; see docs/runner.md)";

/**
 * `kozmic runner`: settings -> adapters -> startRunner. SIGTERM (or a first SIGINT) stops
 * taking work and lets running jobs finish within KOZMIC_SHUTDOWN_GRACE; a second SIGINT
 * returns the running jobs to the queue at once.
 */
export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  if (args.length > 0) {
    console.error(`kozmic runner: unexpected argument "${args[0]}"\n${USAGE}`);
    return 2;
  }
  const [
    { DockerEngine },
    { startRunner },
    { installationOctokits },
    { startPlanner },
    { startScheduleTimer },
    { checkJobQueueRedrive },
    { openStorage, processMetrics, serveMetrics },
    { PLAN_MAX_RECEIVES },
    { ENTRY_POINT_GROUPS, readSettings },
    { nameRunner, claimRunnerName },
  ] = await Promise.all([
    import("../../../runner/engine/docker-engine.js"),
    import("../../../runner/worker/start-runner.js"),
    import("../../planner/installation-octokits.js"),
    import("../../planner/start-planner.js"),
    import("../../planner/schedule-timer.js"),
    import("../../queue/check-job-queue-redrive.js"),
    import("../daemon-parts.js"),
    import("../../settings/storage-settings.js"),
    import("../../settings/read-settings.js"),
    import("../../../runner/worker/runner-name.js"),
  ]);
  const { createRunnerLog } = await import("../runner-log.js");
  let settings;
  let nameClaim;
  try {
    const s = readSettings(process.env, ENTRY_POINT_GROUPS.runner);
    settings = { ...s, runner: nameRunner({ ...s.runner, pipeline: s.pipeline }, process.env) };
    nameClaim = claimRunnerName(settings.runner.pipeline.dataDir, settings.runner.name);
    // A queue whose redrive policy disagrees with KOZMIC_MAX_RECEIVES loses jobs' last attempts.
    await checkJobQueueRedrive(settings.storage.queue);
  } catch (error) {
    return startFailure("kozmic runner", error);
  }
  const { logger, line: log } = createRunnerLog(settings.log);
  let storage;
  try {
    storage = await openStorage(settings.storage, log);
  } catch (error) {
    return startFailure("kozmic runner", error);
  }
  const { queue, planQueue, store } = storage;
  // Metrics only where KOZMIC_METRICS_PORT asks for them; one registry for this process.
  const { port } = settings.metrics;
  const metrics = port === undefined ? undefined : await processMetrics(true);
  const credentials = metrics
    ? { ...settings.app, octokitOptions: { observer: metrics.github } }
    : settings.app;
  let busy = () => 0;
  let hostProblem = (): string | undefined => undefined;
  let metricsServer;
  if (metrics) {
    metricsServer = await serveMetrics(
      "kozmic runner",
      { host: settings.metrics.host, port: port! },
      {
        registry: metrics.registry,
        health: () => {
          const problem = hostProblem();
          return {
            busy: busy(),
            slots: settings.runner.concurrency,
            takingJobs: problem === undefined,
            ...(problem ? { problem } : {}),
          };
        },
        onError: (error) => logger.error({ err: error }, "metrics failed"),
      },
    );
    if (!metricsServer) {
      await storage.close();
      nameClaim.release();
      return 2;
    }
  }
  const { openVault } = await import("../../secrets/open-vault.js");
  const { artifactStoreFrom } = await import("../../store/open-artifacts.js");
  const secrets = await openVault(settings.secrets, store);
  const runner = startRunner({
    queue,
    store: metrics?.runner ? metrics.runner.observeStore(store) : store,
    ...(secrets ? { secrets } : {}),
    artifacts: {
      store: await artifactStoreFrom(settings.artifacts),
      maxBytes: settings.artifacts.maxBytes,
    },
    engine: new DockerEngine(),
    github: credentials,
    settings: settings.runner,
    log,
    ...(metrics?.runner ? { timings: metrics.runner.timings } : {}),
  });
  busy = () => runner.active;
  hostProblem = () => runner.hostProblem;
  if (metrics?.runner && metricsServer) {
    metrics.runner.trackSlots(busy, settings.runner.concurrency);
    metrics.runner.trackHost(hostProblem);
    log(`runner ${runner.owner}: metrics at ${metricsServer.url}/metrics`);
  }
  // Every runner also plans: a fleet turns deliveries into check runs with no extra process.
  const planner = startPlanner({
    queue: planQueue,
    maxReceives: PLAN_MAX_RECEIVES,
    deps: {
      store,
      jobQueue: queue,
      publicUrl: settings.runner.publicUrl,
      octokitFor: installationOctokits(credentials),
      now: Date.now,
      log: logger.child({ component: "planner" }),
    },
  });
  // And fires the schedules when it holds their lease (one process of all on this store).
  const scheduleTimer = startScheduleTimer({
    store,
    planQueue,
    owner: runner.owner,
    now: Date.now,
    log: logger.child({ component: "schedules" }),
  });
  let stopping: Promise<void> | undefined;
  let interrupts = 0;
  const stop = (graceMs?: number) => {
    stopping ??= runner.stop(graceMs === undefined ? {} : { graceMs });
    return stopping;
  };
  const hostDrain = settings.host.drain
    ? await drainOnLeaving(
        settings.host.drain,
        log,
        () => busy(),
        async (graceMs) => {
          await stop(graceMs);
          await scheduleTimer.stop();
          await planner.stop();
        },
      )
    : undefined;
  await new Promise<void>((resolve) => {
    process.on("SIGTERM", () => void stop().then(resolve));
    process.on("SIGINT", () => {
      interrupts += 1;
      if (interrupts === 1) {
        log("kozmic runner: stopping after running jobs (Ctrl-C again to stop at once)");
        void stop().then(resolve);
      } else {
        void runner.stop({ graceMs: 0 }).then(resolve);
      }
    });
  });
  hostDrain?.stop();
  await scheduleTimer.stop();
  await planner.stop();
  await metricsServer?.close();
  await storage.close();
  nameClaim.release();
  return 0;
}

/**
 * On an EC2 Auto Scaling host: drains when the host is leaving, then stays (not receiving)
 * until the host stops it, so that systemd does not restart it into taking jobs again.
 */
async function drainOnLeaving(
  drain: DrainSettings,
  log: LineLog,
  busy: () => number,
  stopWork: (graceMs: number) => Promise<void>,
) {
  const [
    { drainWhenLeaving },
    { instanceMetadata },
    { lifecycleActionCompleter, scaleInProtector },
    { protectWhileBusy },
    { AutoScalingClient },
  ] = await Promise.all([
    import("../../../runner/host/drain-host.js"),
    import("../../../runner/host/instance-metadata.js"),
    import("../../../runner/host/lifecycle-action.js"),
    import("../../../runner/host/scale-in-protection.js"),
    import("@aws-sdk/client-auto-scaling"),
  ]);
  const metadata = instanceMetadata(drain.metadataUrl);
  const autoScaling = new AutoScalingClient({});
  const protection = protectWhileBusy({
    busy,
    instanceId: () => metadata.get("instance-id"),
    setProtected: scaleInProtector(drain.groupName, autoScaling),
    pollMs: drain.pollMs,
    log,
  });
  const hostDrain = drainWhenLeaving({
    metadata,
    pollMs: drain.pollMs,
    drainMs: drain.drainMs,
    stopWork: async (graceMs) => {
      // Leaving anyway: the protection has nothing left to keep.
      protection.stop();
      await stopWork(graceMs);
    },
    completeLifecycleAction: lifecycleActionCompleter(drain.groupName, drain.hookName, autoScaling),
    log,
  });
  hostDrain.drained.then(
    () => log("kozmic runner: drained; waiting for the host to stop"),
    (error: unknown) => {
      if ((error as Error).name !== "AbortError")
        log(`kozmic runner: draining failed: ${(error as Error).message}`, "error");
    },
  );
  return {
    stop: () => {
      protection.stop();
      hostDrain.stop();
    },
  };
}
