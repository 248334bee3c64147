import type { AppTools } from "../../github/kozmic-app.js";
import { parseCommandArgs } from "../parse-command-args.js";
import { startFailure } from "../start-failure.js";

const USAGE = `usage: kozmic serve [--print-credentials]

Runs the GitHub App: webhooks at /api/github/webhooks, log pages at /jobs/<id>,
/healthz (200 while up); Prometheus metrics at /metrics on a listener of their own
(KOZMIC_METRICS_HOST, 127.0.0.1, and KOZMIC_METRICS_PORT; none when that is unset).
Without APP_ID, PRIVATE_KEY(_PATH) and WEBHOOK_SECRET (nor <KOZMIC_DATA_DIR>/.env holding
them), / serves a set-up page that registers the GitHub App from app.yml in one click,
saves its credentials in <KOZMIC_DATA_DIR>/.env (mode 0600) and goes on as the App.
--print-credentials: only that page, for an App whose webhooks go to KOZMIC_PUBLIC_URL
elsewhere (a Lambda): its settings are printed once on stdout, saved nowhere, then exit.
Settings (environment): APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET,
PORT (3000), HOST (0.0.0.0), KOZMIC_METRICS_PORT, KOZMIC_METRICS_HOST, GHE_HOST, GHE_PROTOCOL (https), KOZMIC_PUBLIC_URL, LOG_LEVEL,
GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, KOZMIC_SESSION_SECRET (login for private logs),
and the queue/store settings (KOZMIC_DATA_DIR, KOZMIC_QUEUE_URL, KOZMIC_TABLE, ...).`;

/** `kozmic serve`: the app's Node server until SIGTERM or SIGINT. Exit 2 on bad settings. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("serve", USAGE, args, {
    "print-credentials": { type: "boolean" },
  });
  if (typeof parsed === "number") return parsed;
  // Without the App's credentials: the set-up page registers the App, then we go on as it.
  try {
    const { printAppCredentials, setUpAppIfMissing } = await import("../../setup/run-setup.js");
    if (parsed.values["print-credentials"]) {
      await printAppCredentials(process.env);
      return 0;
    }
    if ((await setUpAppIfMissing(process.env)) === "stopped") return 0;
  } catch (error) {
    return startFailure("kozmic serve", error);
  }

  const [
    { startKozmicServer },
    { checkJobQueueRedrive },
    { openStorage, processMetrics, serveMetrics },
    { PLAN_MAX_RECEIVES },
    { readServeSettings },
    { createWebApp },
    { createRepositoryFinder },
  ] = await Promise.all([
    import("../../github/start-kozmic-server.js"),
    import("../../queue/check-job-queue-redrive.js"),
    import("../daemon-parts.js"),
    import("../../settings/storage-settings.js"),
    import("../../settings/read-settings.js"),
    import("../../web/web-app.js"),
    import("../../web/find-repository-with-app.js"),
  ]);
  let read;
  try {
    read = readServeSettings(process.env);
    // Running jobs from SQS: the queue's redrive policy must agree with KOZMIC_MAX_RECEIVES.
    if (read.runner) await checkJobQueueRedrive(read.storage.queue);
  } catch (error) {
    return startFailure("kozmic serve", error);
  }
  const { web: webSettings, metrics: metricsSettings } = read;
  const settings = { ...read.app, ...read.server };
  const runnerSettings =
    read.runner && read.pipeline ? { ...read.runner, pipeline: read.pipeline } : undefined;
  // The runner's code (and dockerode's) only where this process runs jobs.
  const runnerCode = runnerSettings
    ? await Promise.all([
        import("../../../runner/engine/docker-engine.js"),
        import("../../../runner/worker/start-runner.js"),
        import("../../../runner/worker/runner-name.js"),
      ]).then(([{ DockerEngine }, { startRunner }, { nameRunner, claimRunnerName }]) => ({
        DockerEngine,
        startRunner,
        settings: nameRunner(runnerSettings, process.env),
        claimRunnerName,
      }))
    : undefined;
  let nameClaim;
  try {
    nameClaim = runnerCode?.claimRunnerName(
      runnerCode.settings.pipeline.dataDir,
      runnerCode.settings.name,
    );
  } catch (error) {
    console.error(`kozmic serve: ${(error as Error).message}`);
    return 2;
  }
  let storage;
  try {
    storage = await openStorage(read.storage);
  } catch (error) {
    return startFailure("kozmic serve", error);
  }
  const { queue, planQueue, store } = storage;

  // Repository secrets: set on the pages, read by an embedded runner.
  const { openVault } = await import("../../secrets/open-vault.js");
  const secrets = await openVault(read.secrets, store);
  const { artifactStoreFrom } = await import("../../store/open-artifacts.js");
  const artifacts = await artifactStoreFrom(read.artifacts);
  const pagesFor = (app: AppTools) =>
    createWebApp({
      store,
      settings: webSettings,
      actions: app.actions,
      findRepository: createRepositoryFinder(app.auth),
      ...(secrets ? { secrets } : {}),
      artifacts,
    });

  const metrics = await processMetrics(runnerSettings !== undefined);
  let server;
  try {
    server = await startKozmicServer(settings, {
      octokit: { observer: metrics.github },
      queue,
      planQueue,
      store,
      pagesFor,
      planner: { maxReceives: PLAN_MAX_RECEIVES },
    });
  } catch (error) {
    await storage.close();
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      console.error(
        `kozmic serve: PORT ${settings.port} is already in use; set PORT to a free port`,
      );
      return 2;
    }
    throw error;
  }
  let metricsServer;
  if (metricsSettings.port !== undefined) {
    metricsServer = await serveMetrics(
      "kozmic serve",
      { host: metricsSettings.host, port: metricsSettings.port },
      {
        registry: metrics.registry,
        onError: (error) => console.error(`kozmic serve: metrics failed: ${String(error)}`),
      },
    );
    if (!metricsServer) {
      await server.stop();
      await storage.close();
      return 2;
    }
  }
  // The single-box deployment: this process also runs the jobs it queues.
  const runner =
    runnerSettings && runnerCode
      ? runnerCode.startRunner({
          queue,
          store: metrics.runner ? metrics.runner.observeStore(store) : store,
          ...(secrets ? { secrets } : {}),
          artifacts: { store: artifacts, maxBytes: read.artifacts.maxBytes },
          engine: new runnerCode.DockerEngine(),
          ...(metrics.runner ? { timings: metrics.runner.timings } : {}),
          github: {
            appId: settings.appId,
            privateKey: settings.privateKey,
            baseUrl: settings.baseUrl,
            octokitOptions: { observer: metrics.github },
          },
          settings: runnerCode.settings,
          log: (line) => console.error(line),
        })
      : undefined;
  if (runner && metrics.runner) {
    metrics.runner.trackSlots(() => runner.active, runnerSettings!.concurrency);
    metrics.runner.trackHost(() => runner.hostProblem);
  }
  // Signal handlers first: whoever waits for the line below may stop us at once.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  console.log(
    `kozmic serve: listening on ${server.url}, webhooks at ${server.url}/api/github/webhooks, ` +
      `GitHub API ${settings.baseUrl}, log pages under ${settings.publicUrl}` +
      (runner
        ? `, running jobs here (${runnerSettings!.concurrency} at once)`
        : ", no runner here") +
      (metricsServer ? `, metrics at ${metricsServer.url}/metrics` : ""),
  );

  const signal = await stopped;
  console.log(`kozmic serve: ${signal}, finishing the requests in flight`);
  // Running jobs finish (up to KOZMIC_SHUTDOWN_GRACE) or go back to the queue.
  await runner?.stop();
  await server.stop();
  await metricsServer?.close();
  await storage.close();
  nameClaim?.release();
  return 0;
}
