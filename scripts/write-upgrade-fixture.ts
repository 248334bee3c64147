/**
 * Writes what a release leaves behind, with THAT release's code (a checkout of it at
 * `--source`, made by scripts/make-upgrade-fixture.sh), into `--out`:
 *   kozmic.db.gz        the embedded store and queues: a finished build whose job has a log
 *                       and sections, a repository secret, a cache record, an installation,
 *                       a queued job (its message in the job queue) and a planning message
 *   env                 `.kozmic/.env` as set-up saved it (a test App key, a test secrets key)
 *   dynamodb-items.json the same records in a DynamoDB table (DynamoDB Local), as scanned
 *   job-message.json, plan-message.json   the queued messages' bodies (SQS carries the same)
 *   fixture.json        what was written, for test/integration/upgrade-compat.test.ts to check
 * Only the Store, queue, vault and set-up functions of that release are called, so the files
 * are exactly what it writes. Everything here is test data; no key in it is used anywhere else.
 */
import { DynamoDBClient, DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs, parseEnv } from "node:util";
import { gzipSync } from "node:zlib";
import {
  FIXTURE_CLONE_URL,
  FIXTURE_COMMIT,
  fixtureCommitSha,
} from "../test/support/upgrade-fixture-commit.js";

const { values } = parseArgs({
  options: { source: { type: "string" }, out: { type: "string" }, ref: { type: "string" } },
});
if (!values.source || !values.out || !values.ref) {
  throw new Error("usage: write-upgrade-fixture.ts --source <checkout> --out <dir> --ref <sha>");
}
const source = resolve(values.source);
const out = resolve(values.out);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const old = (path: string): Promise<Any> => import(join(source, path));

const [embedded, dynamo, queue, messages, vaultModule, keys, setup] = await Promise.all([
  old("src/store/embedded-store.ts"),
  old("src/store/dynamodb-store.ts"),
  old("src/queue/embedded-queue.ts"),
  old("src/queue/parse-message-body.ts"),
  old("src/secrets/secret-vault.ts"),
  old("src/secrets/local-key-wrapper.ts"),
  old("src/setup/saved-credentials.ts"),
]);

const sha = fixtureCommitSha();
const repo = { id: 4242, fullName: "acme/upgrade", private: false };
const installationId = 4343;
const t0 = Date.now() - 3_600_000;
const finished = {
  build: {
    id: "build-upgrade-finished",
    installationId,
    repoId: repo.id,
    repoFullName: repo.fullName,
    repoPrivate: repo.private,
    sha,
    ref: "refs/heads/main",
    event: "push",
    trigger: "octocat",
    trust: "trusted",
    createdAt: t0,
    deliveryId: "delivery-upgrade-1",
  },
  job: {
    id: "job-upgrade-finished",
    buildId: "build-upgrade-finished",
    repoId: repo.id,
    repoFullName: repo.fullName,
    sha,
    hook: "test",
    status: "queued",
    createdAt: t0,
    updatedAt: t0,
  },
};
const queued = {
  build: { ...finished.build, id: "build-upgrade-queued", createdAt: t0 + 1000 },
  job: {
    ...finished.job,
    id: "job-upgrade-queued",
    buildId: "build-upgrade-queued",
    createdAt: t0 + 1000,
    updatedAt: t0 + 1000,
  },
};
const log = [
  "\u001b[1mPreparing\u001b[0m: fetching acme/upgrade at " + sha.slice(0, 12) + "\n",
  "installing the widgets\n",
  "\u001b[32mbuild passed\u001b[0m: 3 tests, 0 failures\n",
];
const sections = [
  { name: "preparing", title: "Preparing", startSeq: 0, endSeq: 1 },
  { name: "install", title: "Install", startSeq: 1, endSeq: 2 },
  { name: "build", title: "Build", startSeq: 2, endSeq: 3 },
].map((s, i) => ({
  jobId: finished.job.id,
  ...s,
  startedAt: t0 + 1000 * i,
  endedAt: t0 + 1000 * (i + 1),
  conclusion: "success",
}));
const cacheImage = {
  imageId: `sha256:${"5e".repeat(32)}`,
  repositoryId: String(repo.id),
  hook: "test",
  key: "c4".repeat(32),
  scope: "trusted",
  createdAt: t0,
};
const secret = { name: "DEPLOY_TOKEN", value: "upgrade-fixture-secret-value" };
const jobMessage = {
  version: 1,
  jobId: queued.job.id,
  buildId: queued.build.id,
  installationId,
  repository: { ...repo, cloneUrl: FIXTURE_CLONE_URL },
  sha,
  ref: "refs/heads/main",
  event: "push",
  trust: "trusted",
  hook: FIXTURE_COMMIT.hook,
};
const planMessage = {
  version: 1,
  deliveryId: "delivery-upgrade-2",
  installationId,
  repository: { ...repo, cloneUrl: FIXTURE_CLONE_URL },
  task: {
    kind: "build",
    event: "push",
    sha,
    ref: "refs/heads/main",
    headRepositoryFullName: repo.fullName,
    headRepositoryId: repo.id,
    trigger: "octocat",
  },
};

/** Everything but the queues, through the release's Store (embedded or DynamoDB). */
async function writeStore(store: Any, secretsKey: Buffer): Promise<void> {
  await store.putInstallation({
    id: installationId,
    account: "acme",
    repositories: [{ id: repo.id, fullName: repo.fullName, private: repo.private }],
    updatedAt: t0,
  });
  await store.createBuild(finished.build, [finished.job]);
  await store.claimJob(finished.job.id, "runner-upgrade", 60_000, t0 + 100);
  for (const [seq, data] of log.entries()) {
    await store.appendLog({ jobId: finished.job.id, seq, data, at: t0 + 1000 * seq });
  }
  for (const section of sections) await store.putLogSection(section);
  await store.transitionJob(finished.job.id, ["running"], {
    status: "completed",
    conclusion: "success",
    exitCode: 0,
    cacheKey: cacheImage.key,
    cacheHit: false,
    durations: { pull: 0.2, install: 1, build: 2, total: 3.2 },
    logChunks: log.length,
    startedAt: t0 + 100,
    finishedAt: t0 + 3_000,
  });
  await store.createBuild(queued.build, [queued.job]);
  await store.recordCacheImage(cacheImage);
  const vault = new vaultModule.SecretVault(store, keys.localKeyWrapper(secretsKey));
  await vault.set(repo.id, secret.name, secret.value, "operator:root", t0);
  await store.recordDelivery(finished.build.deliveryId, t0);
}

mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "kozmic-upgrade-fixture-"));
try {
  // Set-up's .env, as `kozmic serve` saves it once the App is registered.
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const app = {
    id: 31,
    slug: "kozmic-upgrade",
    name: "Kozmic upgrade fixture",
    htmlUrl: "http://github.upgrade.test/apps/kozmic-upgrade",
    owner: "acme",
    pem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    webhookSecret: "upgrade-fixture-webhook-secret",
    clientId: "Iv1.upgradefixture",
    clientSecret: "upgrade-fixture-client-secret",
  };
  const hostEnv = {
    GHE_HOST: "github.upgrade.test",
    GHE_PROTOCOL: "http",
    KOZMIC_PUBLIC_URL: "http://127.0.0.1:3000",
  };
  const envFile = await setup.saveCredentials(
    work,
    { ...setup.credentialsEnv(app), ...setup.hostSettingsToSave(hostEnv) },
    app,
  );
  const savedEnv = parseEnv(readFileSync(envFile, "utf8"));
  const secretsKey = keys.parseSecretsKey(savedEnv.KOZMIC_SECRETS_KEY!);

  const store = embedded.openEmbeddedStore({ dataDir: work, retention: false });
  await writeStore(store, secretsKey);
  await store.close();
  const jobs = queue.openEmbeddedQueue({ dataDir: work, name: "jobs" });
  await jobs.send(jobMessage);
  await jobs.close();
  const plans = queue.openEmbeddedQueue({
    dataDir: work,
    name: "plans",
    kind: messages.PLAN_MESSAGES,
  });
  await plans.send(planMessage);
  await plans.close();

  writeFileSync(join(out, "kozmic.db.gz"), gzipSync(readFileSync(join(work, "kozmic.db"))));
  writeFileSync(join(out, "env"), readFileSync(envFile));
  writeFileSync(
    join(out, "job-message.json"),
    messages.serializeMessage(jobMessage, messages.JOB_MESSAGES) + "\n",
  );
  writeFileSync(
    join(out, "plan-message.json"),
    messages.serializeMessage(planMessage, messages.PLAN_MESSAGES) + "\n",
  );

  // The same records in DynamoDB (DynamoDB Local, started by the make script).
  const client = new DynamoDBClient({});
  const table = `upgrade-fixture-${randomUUID()}`;
  try {
    await dynamo.ensureDynamoTable(client, table);
    const dynamoStore = dynamo.openDynamoStore({ table, client });
    await writeStore(dynamoStore, secretsKey);
    const scanned = await DynamoDBDocumentClient.from(client).send(
      new ScanCommand({ TableName: table }),
    );
    const items = (scanned.Items ?? []).sort((a, b) =>
      `${a.pk}\u0000${a.sk}`.localeCompare(`${b.pk}\u0000${b.sk}`),
    );
    writeFileSync(join(out, "dynamodb-items.json"), JSON.stringify(items, null, 1) + "\n");
  } finally {
    await client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    client.destroy();
  }

  const gitVersion = execFileSync("git", ["-C", source, "log", "-1", "--format=%H %cs"], {
    encoding: "utf8",
  }).trim();
  writeFileSync(
    join(out, "fixture.json"),
    JSON.stringify(
      {
        madeBy: "scripts/make-upgrade-fixture.sh",
        ref: values.ref,
        commit: gitVersion,
        repository: repo,
        installationId,
        sha,
        finished: { buildId: finished.build.id, jobId: finished.job.id, log, sections },
        queued: { buildId: queued.build.id, jobId: queued.job.id },
        planDeliveryId: planMessage.deliveryId,
        cacheImage,
        secret,
      },
      null,
      2,
    ) + "\n",
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
