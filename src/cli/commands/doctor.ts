import { parseCommandArgs } from "../parse-command-args.js";

const USAGE = `usage: kozmic doctor [--probe-image IMAGE] [--probe-url URL] [--no-probe]

Checks this host's settings (the environment kozmic runner or kozmic serve would get) and
prints one line per check: ok, problem (with what to do) or skipped.
  settings        every variable is valid
  docker          Docker answers at DOCKER_HOST, and its version
  job network     the engine has the network jobs get (KOZMIC_NETWORK, else its bridge)
  network probe   a container there (IMAGE, default busybox:stable, pulled if missing) fetches
                  URL (default https://pypi.org/simple/): jobs resolve names and reach a
                  package registry; --no-probe skips it
  runner name     the name a runner here takes; no runner on another host uses it on this
                  engine (a runner removes its name's containers when it starts)
  job queue       KOZMIC_QUEUE_URL exists and may be read (sqs:GetQueueAttributes)
  redrive policy  the job queue's maxReceiveCount equals KOZMIC_MAX_RECEIVES
  plan queue      the planning queue exists, with its redrive policy
  table           KOZMIC_TABLE exists with Kozmic's keys and TTL, and may be read and written
  data directory  on embedded defaults (no KOZMIC_QUEUE_URL), KOZMIC_DATA_DIR is writable and
                  no other user may read it or its database
  github app      GitHub accepts APP_ID and PRIVATE_KEY (GET /app with the App's JWT)
  cache registry  with KOZMIC_CACHE_REGISTRY: KOZMIC_CACHE_REGISTRY_KEY is set, and the registry
                  refuses GET /v2/_catalog and the tag list without credentials (ECR: IAM)
  secrets         repository secrets have a key (KOZMIC_SECRETS_KEY or KOZMIC_KMS_KEY_ID)
  public URL      KOZMIC_PUBLIC_URL/healthz answers 200
Nothing is created or changed (but the probe's image, when pulled). Exit 0 when no check found a problem, else 1.`;

/** `kozmic doctor`: one line per check; exit 1 when any finds a problem. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("doctor", USAGE, args, {
    "probe-image": { type: "string" },
    "probe-url": { type: "string" },
    "no-probe": { type: "boolean" },
  });
  if (typeof parsed === "number") return parsed;
  const flags = parsed.values;
  const [settings, checks, { DockerEngine }] = await Promise.all([
    import("../../settings/read-settings.js"),
    import("../../doctor/checks.js"),
    import("../../../runner/engine/docker-engine.js"),
  ]);
  const { ok, problem, skipped, formatCheck, checkDocker, checkPublicUrl } = checks;
  const env = process.env;
  let failed = false;
  const print = (result: ReturnType<typeof ok>) => {
    if (result.status === "problem") failed = true;
    console.log(formatCheck(result));
  };

  // Each group on its own, so that one bad variable skips only the checks that need it.
  const read = <G extends "app" | "storage" | "runner" | "pipeline" | "secrets">(group: G) => {
    try {
      return settings.readSettings(env, [group])[group];
    } catch (error) {
      for (const line of (error as Error).message.split("\n")) print(problem("settings", line));
      return undefined;
    }
  };
  const app = read("app");
  const storage = read("storage");
  const runner = read("runner");
  const pipeline = read("pipeline");
  const secrets = read("secrets");
  if (app && storage && runner && pipeline && secrets) {
    print(ok("settings", "every variable is valid"));
  }
  const fixFirst = "fix the settings above first";

  const engine = new DockerEngine();
  const docker = await checkDocker(engine, env.DOCKER_HOST);
  print(docker);
  if (!pipeline) print(skipped("job network", fixFirst));
  else if (docker.status !== "ok") print(skipped("job network", "Docker does not answer"));
  else {
    const { describeJobNetwork } = await import("../../../runner/pipeline/job-network.js");
    const network = await describeJobNetwork(engine, pipeline);
    print((network.problem ? problem : ok)("job network", network.detail));
    if (flags["no-probe"]) print(skipped("network probe", "--no-probe"));
    else if (network.problem) print(skipped("network probe", "fix the job network first"));
    else if (pipeline.network === "none") print(skipped("network probe", "jobs have no network"));
    else {
      const probe = await import("../../../runner/pipeline/network-probe.js");
      const found = await probe.probeJobNetwork(engine, {
        image: flags["probe-image"] ?? probe.DEFAULT_PROBE_IMAGE,
        network: pipeline.network,
        url: flags["probe-url"] ?? probe.DEFAULT_PROBE_URL,
      });
      print((found.problem ? problem : ok)("network probe", found.detail));
    }
  }
  if (!runner || !pipeline) print(skipped("runner name", fixFirst));
  else if (docker.status !== "ok") print(skipped("runner name", "Docker does not answer"));
  else {
    const { describeRunnerName } = await import("../../../runner/worker/runner-name.js");
    const name = await describeRunnerName(engine, { ...runner, pipeline }, env);
    print((name.problem ? problem : ok)("runner name", name.detail));
  }

  if (!storage) {
    print(skipped("queue and table", fixFirst));
  } else {
    if (storage.queue.kind === "sqs" && storage.planQueue.kind === "sqs") {
      const [{ SQSClient }, { checkSqsQueues }] = await Promise.all([
        import("@aws-sdk/client-sqs"),
        import("../../doctor/check-sqs-queues.js"),
      ]);
      const sqs = new SQSClient({ region: storage.queue.region, endpoint: storage.queue.endpoint });
      try {
        for (const r of await checkSqsQueues(sqs, storage.queue, storage.planQueue)) print(r);
      } finally {
        sqs.destroy();
      }
    }
    if (storage.store.kind === "dynamodb") {
      const [{ DynamoDBClient }, { checkDynamoTable }] = await Promise.all([
        import("@aws-sdk/client-dynamodb"),
        import("../../doctor/check-dynamo-table.js"),
      ]);
      const dynamo = new DynamoDBClient({
        region: storage.store.region,
        endpoint: storage.store.endpoint,
      });
      try {
        print(await checkDynamoTable(dynamo, storage.store));
      } finally {
        dynamo.destroy();
      }
    }
    const dataDir =
      storage.queue.kind === "embedded"
        ? storage.queue.dataDir
        : storage.store.kind === "embedded"
          ? storage.store.dataDir
          : undefined;
    if (dataDir !== undefined) print(await checks.checkDataDir(dataDir));
  }

  if (!app) print(skipped("github app", fixFirst));
  else print(await checks.checkGitHubApp(app));

  if (!pipeline) print(skipped("cache registry", fixFirst));
  else if (!pipeline.cacheRegistry) print(skipped("cache registry", "no KOZMIC_CACHE_REGISTRY"));
  else {
    const { registryWarnings } = await import("../../../runner/cache/registry-exposure.js");
    const warnings = await registryWarnings(pipeline.cacheRegistry);
    for (const warning of warnings) print(problem("cache registry", warning));
    if (warnings.length === 0) {
      print(
        ok(
          "cache registry",
          pipeline.cacheRegistry.ecr
            ? `${pipeline.cacheRegistry.host}: ECR, access through IAM; tags are keyed`
            : `${pipeline.cacheRegistry.host} refuses clients without credentials; tags are keyed`,
        ),
      );
    }
  }

  if (!secrets) print(skipped("secrets", fixFirst));
  else if (secrets.kind === "kms") print(ok("secrets", `wrapped by AWS KMS key ${secrets.keyId}`));
  else if (secrets.kind === "local") {
    const rotate = secrets.previousKeys.length
      ? "; KOZMIC_SECRETS_PREVIOUS_KEY too: run kozmic secrets rotate-key, then unset it"
      : "";
    print(ok("secrets", `KOZMIC_SECRETS_KEY is set${rotate}`));
  } else {
    print(
      skipped(
        "secrets",
        "off: repository secrets need KOZMIC_SECRETS_KEY (32 random bytes, e.g. `openssl rand " +
          "-hex 32`; kozmic serve's set-up writes one to <data dir>/.env) or KOZMIC_KMS_KEY_ID",
      ),
    );
  }

  if (!runner) print(skipped("public URL", fixFirst));
  else print(await checkPublicUrl(env.KOZMIC_PUBLIC_URL?.trim() ? runner.publicUrl : undefined));

  return failed ? 1 : 0;
}
