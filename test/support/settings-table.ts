import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { GroupName, Settings } from "../../src/settings/read-settings.js";
import { generateAppKey } from "./fake-github/app-key.js";

/**
 * One table of good and bad settings for every entry point (`kozmic serve`, `runner`,
 * `run`, `cache`, the Lambda's handlers). A row applies to the entry points that read one
 * of its groups; the others must ignore it.
 */
export interface SettingsRow {
  what: string;
  /** The groups that read the row's variables. */
  groups: readonly GroupName[];
  /** Changes to the good base environment; undefined unsets. */
  env: Record<string, string | undefined>;
  /** The SettingsError must match this; or else */
  refused?: RegExp;
  /** the settings read must pass this check (given the groups the entry point reads). */
  accepted?: (settings: Partial<Settings>) => void;
  /**
   * Shown by itself only: it changes what else is checked (a cross-variable check, or a
   * queue URL that turns `kozmic serve`'s runner off), so it cannot share an environment
   * with other bad rows.
   */
  alone?: boolean;
}

export interface SettingsFixture {
  /** A complete, good environment: every entry point starts with it. */
  base: Record<string, string>;
  key: string;
  rows: SettingsRow[];
  /** Strings that must never appear in an error: the key and the secrets. */
  secrets: string[];
  /** The key files and data directory; the test removes it. */
  dir: string;
}

export function settingsTable(): SettingsFixture {
  const key = generateAppKey().privateKeyPem;
  const dir = mkdtempSync(join(tmpdir(), "kozmic-settings-"));
  const keyFile = join(dir, "app.pem");
  writeFileSync(keyFile, key);
  const notAKeyFile = join(dir, "notes.txt");
  writeFileSync(notAKeyFile, "hello\n");
  const base = {
    APP_ID: "31",
    PRIVATE_KEY: key,
    WEBHOOK_SECRET: "webhook-s3cret",
    KOZMIC_DATA_DIR: join(dir, "data"),
  };
  const app = ["app"] as const;
  const publicUrlGroups = ["server", "runner", "web"] as const;

  const rows: SettingsRow[] = [
    // The app's credentials: every form of the key, everywhere.
    {
      what: "a PEM key",
      groups: app,
      env: {},
      accepted: (s) => assert.equal(s.app?.privateKey, key),
    },
    {
      what: "a PEM key with \\n escapes",
      groups: app,
      env: { PRIVATE_KEY: key.replace(/\n/g, "\\n") },
      accepted: (s) => assert.equal(s.app?.privateKey, key),
    },
    {
      what: "a base64 key",
      groups: app,
      env: { PRIVATE_KEY: Buffer.from(key).toString("base64") },
      accepted: (s) => assert.equal(s.app?.privateKey, key),
    },
    {
      what: "PRIVATE_KEY_PATH",
      groups: app,
      env: { PRIVATE_KEY: undefined, PRIVATE_KEY_PATH: keyFile },
      accepted: (s) => assert.equal(s.app?.privateKey, key),
    },
    {
      what: "an empty PRIVATE_KEY, as unset, with PRIVATE_KEY_PATH",
      groups: app,
      env: { PRIVATE_KEY: "", PRIVATE_KEY_PATH: keyFile },
      accepted: (s) => assert.equal(s.app?.privateKey, key),
    },
    {
      what: "GitHub Enterprise Server over http",
      groups: app,
      env: { GHE_HOST: "127.0.0.1:8080", GHE_PROTOCOL: "http" },
      accepted: (s) => assert.equal(s.app?.baseUrl, "http://127.0.0.1:8080/api/v3"),
    },
    {
      what: "github.com by default",
      groups: app,
      env: {},
      accepted: (s) => assert.equal(s.app?.baseUrl, "https://api.github.com"),
    },
    {
      what: "no APP_ID",
      groups: app,
      env: { APP_ID: undefined },
      refused: /APP_ID is required: the App ID from the GitHub App's settings page/,
    },
    {
      what: "a non-numeric APP_ID",
      groups: app,
      env: { APP_ID: "my-app" },
      refused: /APP_ID must be the GitHub App's numeric App ID, got "my-app"/,
    },
    {
      what: "a PRIVATE_KEY that is no key",
      groups: app,
      env: { PRIVATE_KEY: "hunter2" },
      refused: /PRIVATE_KEY must be the app's private key: PEM .*, PEM with \\n escapes, or base64/,
    },
    {
      what: "a PEM whose body is damaged",
      groups: app,
      env: { PRIVATE_KEY: key.replace(/\n[A-Za-z0-9+/]{20}/, "\n") },
      refused: /PRIVATE_KEY must be the app's private key/,
    },
    {
      what: "neither PRIVATE_KEY nor PRIVATE_KEY_PATH",
      groups: app,
      env: { PRIVATE_KEY: undefined },
      refused: /PRIVATE_KEY or PRIVATE_KEY_PATH is required/,
    },
    {
      what: "a PRIVATE_KEY_PATH that cannot be read",
      groups: app,
      env: { PRIVATE_KEY: undefined, PRIVATE_KEY_PATH: join(dir, "missing.pem") },
      refused: /PRIVATE_KEY_PATH must name a readable file, got ".*missing\.pem" \(ENOENT\)/,
    },
    {
      what: "a PRIVATE_KEY_PATH holding no key",
      groups: app,
      env: { PRIVATE_KEY: undefined, PRIVATE_KEY_PATH: notAKeyFile },
      refused:
        /PRIVATE_KEY_PATH must name a file holding the app's private key.*notes\.txt" does not/,
    },
    {
      what: "GHE_PROTOCOL ftp",
      groups: ["app", "web"],
      env: { GHE_PROTOCOL: "ftp" },
      refused: /GHE_PROTOCOL must be "https" or "http", got "ftp"/,
    },
    {
      what: "GHE_HOST with a scheme",
      groups: ["app", "web"],
      env: { GHE_HOST: "https://ghe.example.com" },
      refused: /GHE_HOST must be a host name with an optional port/,
    },

    // The server's own.
    {
      what: "the server's defaults",
      groups: ["server"],
      env: {},
      accepted: (s) => {
        assert.equal(s.server?.port, 3000);
        assert.equal(s.server?.host, "0.0.0.0");
        assert.equal(s.server?.logLevel, "info");
        assert.equal(s.server?.webhookSecret, "webhook-s3cret");
      },
    },
    {
      what: "no WEBHOOK_SECRET",
      groups: ["server"],
      env: { WEBHOOK_SECRET: undefined },
      refused: /WEBHOOK_SECRET is required: the webhook secret set when the app was registered/,
    },
    {
      what: "a PORT that is no number",
      groups: publicUrlGroups,
      env: { PORT: "http" },
      refused: /PORT must be a whole number from 0 to 65535, got "http"/,
    },
    {
      what: "a PORT too high",
      groups: publicUrlGroups,
      env: { PORT: "70000" },
      refused: /PORT must be a whole number from 0 to 65535, got "70000"/,
    },
    {
      what: "LOG_LEVEL loud",
      groups: ["server", "log"],
      env: { LOG_LEVEL: "loud" },
      refused: /LOG_LEVEL must be "trace", "debug", "info", "warn", "error" or "fatal", got "loud"/,
    },
    {
      what: "LOG_FORMAT xml",
      groups: ["server", "log"],
      env: { LOG_FORMAT: "xml" },
      refused: /LOG_FORMAT must be "json" or "pretty", got "xml"/,
    },
    {
      what: "KOZMIC_EMBEDDED_RUNNER yes",
      groups: ["server"],
      env: { KOZMIC_EMBEDDED_RUNNER: "yes" },
      refused: /KOZMIC_EMBEDDED_RUNNER must be "auto", "true" or "false", got "yes"/,
    },

    // The public URL: one default everywhere, following PORT.
    {
      what: "the public URL from PORT",
      groups: publicUrlGroups,
      env: { PORT: "8080" },
      accepted: (s) => {
        for (const g of [s.server, s.runner, s.web]) {
          if (g) assert.equal(g.publicUrl, "http://localhost:8080");
        }
      },
    },
    {
      what: "a blank PORT, as unset",
      groups: publicUrlGroups,
      env: { PORT: " " },
      accepted: (s) => {
        for (const g of [s.server, s.runner, s.web]) {
          if (g) assert.equal(g.publicUrl, "http://localhost:3000");
        }
      },
    },
    {
      what: "KOZMIC_PUBLIC_URL without its trailing slash",
      groups: publicUrlGroups,
      env: { KOZMIC_PUBLIC_URL: "https://ci.example.com/kozmic/" },
      accepted: (s) => {
        for (const g of [s.server, s.runner, s.web]) {
          if (g) assert.equal(g.publicUrl, "https://ci.example.com/kozmic");
        }
      },
    },
    {
      what: "a KOZMIC_PUBLIC_URL without a scheme",
      groups: publicUrlGroups,
      env: { KOZMIC_PUBLIC_URL: "ci.example.com" },
      refused:
        /KOZMIC_PUBLIC_URL must be an http\(s\) URL such as https:\/\/ci.example.com, got "ci.example.com"/,
    },

    // The log pages.
    {
      what: "login off while a login variable is missing",
      groups: ["web"],
      env: { GITHUB_CLIENT_ID: "Iv1.x" },
      accepted: (s) =>
        assert.deepEqual(s.web?.oauth, {
          enabled: false,
          missing: ["GITHUB_CLIENT_SECRET", "KOZMIC_SESSION_SECRET"],
        }),
    },
    {
      what: "a short KOZMIC_SESSION_SECRET",
      groups: ["web"],
      env: { KOZMIC_SESSION_SECRET: "sesame" },
      refused: /KOZMIC_SESSION_SECRET must be at least 32 characters/,
    },

    // The runner.
    {
      what: "the runner's defaults",
      groups: ["runner"],
      env: {},
      accepted: (s) => {
        assert.equal(s.runner?.concurrency, Math.max(1, cpus().length));
        assert.equal(s.runner?.logCapBytes, 50 * 1024 ** 2);
        assert.equal(s.runner?.shutdownGraceMs, 60_000);
        assert.equal(s.runner?.maxReceives, 5);
        assert.equal(s.runner?.mirrorMaxAgeMs, 14 * 24 * 3600_000);
      },
    },
    {
      what: "runner durations and sizes",
      groups: ["runner"],
      env: { KOZMIC_SHUTDOWN_GRACE: "2m", KOZMIC_LOG_CAP_BYTES: "10m", KOZMIC_MIRROR_MAX_AGE: "0" },
      accepted: (s) => {
        assert.equal(s.runner?.shutdownGraceMs, 120_000);
        assert.equal(s.runner?.logCapBytes, 10 * 1024 ** 2);
        assert.equal(s.runner?.mirrorMaxAgeMs, 0);
      },
    },
    {
      what: "KOZMIC_RUNNER_CONCURRENCY 0",
      groups: ["runner"],
      env: { KOZMIC_RUNNER_CONCURRENCY: "0" },
      refused: /KOZMIC_RUNNER_CONCURRENCY must be a whole number from 1 to 256, got "0"/,
    },
    {
      what: "a KOZMIC_RUNNER_NAME with a space",
      groups: ["runner"],
      env: { KOZMIC_RUNNER_NAME: "my runner" },
      refused: /KOZMIC_RUNNER_NAME must be 1-63 of A-Z a-z 0-9 _ \. - \(a Docker label value\)/,
    },
    {
      what: "KOZMIC_LOG_CAP_BYTES lots",
      groups: ["runner"],
      env: { KOZMIC_LOG_CAP_BYTES: "lots" },
      refused:
        /KOZMIC_LOG_CAP_BYTES must be a size such as "512m" or "2g", or a number of bytes, got "lots"/,
    },
    {
      what: "KOZMIC_SHUTDOWN_GRACE soon",
      groups: ["runner"],
      env: { KOZMIC_SHUTDOWN_GRACE: "soon" },
      refused:
        /KOZMIC_SHUTDOWN_GRACE must be a duration such as "60s", "2m" or "1h30m", got "soon"/,
    },
    {
      what: "KOZMIC_MIRROR_MAX_AGE a fortnight",
      groups: ["runner"],
      env: { KOZMIC_MIRROR_MAX_AGE: "a fortnight" },
      refused: /KOZMIC_MIRROR_MAX_AGE must be a duration/,
    },
    {
      what: "KOZMIC_MAX_RECEIVES for the runner and the queue alike",
      groups: ["runner", "storage"],
      env: { KOZMIC_MAX_RECEIVES: "7" },
      accepted: (s) => {
        if (s.runner) assert.equal(s.runner.maxReceives, 7);
        if (s.storage) assert.equal(s.storage.queue.maxReceives, 7);
      },
    },
    {
      what: "KOZMIC_MAX_RECEIVES 0",
      groups: ["runner", "storage"],
      env: { KOZMIC_MAX_RECEIVES: "0" },
      refused: /KOZMIC_MAX_RECEIVES must be a whole number from 1 to 1000, got "0"/,
    },

    // The pipeline (runner, `kozmic run`, `kozmic cache`).
    {
      what: "pipeline values",
      groups: ["pipeline"],
      env: {
        KOZMIC_DEFAULT_CPUS: "1.5",
        KOZMIC_MAX_CPUS: "1024",
        KOZMIC_ALLOW_HOST_NETWORK: "1",
        KOZMIC_CACHE_MAX_BYTES: "1g",
        KOZMIC_DOCKER_RUNTIME: "runsc",
      },
      accepted: (s) => {
        assert.equal(s.pipeline?.defaultCpus, 1.5);
        assert.equal(s.pipeline?.allowHostNetwork, true);
        assert.equal(s.pipeline?.cacheMaxBytes, 1024 ** 3);
        assert.equal(s.pipeline?.runtime, "runsc");
      },
    },
    {
      what: "KOZMIC_CACHE_REGISTRY on ECR",
      groups: ["pipeline"],
      env: { KOZMIC_CACHE_REGISTRY: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/kozmic-cache" },
      accepted: (s) =>
        assert.deepEqual(s.pipeline?.cacheRegistry, {
          host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
          repository: "kozmic-cache",
          ecr: { accountId: "123456789012", region: "eu-west-1" },
        }),
    },
    {
      what: "KOZMIC_CACHE_REGISTRY with a scheme",
      groups: ["pipeline"],
      env: { KOZMIC_CACHE_REGISTRY: "https://registry.example.com/kozmic-cache" },
      refused:
        /KOZMIC_CACHE_REGISTRY: drop the scheme: expected a registry host and repository such as .*, got "https:\/\/registry.example.com\/kozmic-cache"/,
    },
    {
      what: "KOZMIC_DATA_DIR for the pipeline and the store alike",
      groups: ["pipeline", "storage"],
      env: { KOZMIC_DATA_DIR: "/var/lib/kozmic" },
      accepted: (s) => {
        if (s.pipeline) assert.equal(s.pipeline.dataDir, "/var/lib/kozmic");
        if (s.storage)
          assert.equal(
            s.storage.store.kind === "embedded" && s.storage.store.dataDir,
            "/var/lib/kozmic",
          );
      },
    },
    {
      what: "KOZMIC_DEFAULT_MEMORY huge",
      groups: ["pipeline"],
      env: { KOZMIC_DEFAULT_MEMORY: "huge" },
      refused:
        /KOZMIC_DEFAULT_MEMORY must be a size such as "512m" or "2g", or a number of bytes, got "huge"/,
    },
    {
      what: "KOZMIC_DEFAULT_PIDS -1",
      groups: ["pipeline"],
      env: { KOZMIC_DEFAULT_PIDS: "-1" },
      refused: /KOZMIC_DEFAULT_PIDS must be a whole number from 1 to 4194304, got "-1"/,
    },
    {
      what: "KOZMIC_MAX_CPUS 0",
      groups: ["pipeline"],
      env: { KOZMIC_MAX_CPUS: "0" },
      refused:
        /KOZMIC_MAX_CPUS must be a number above 0 and at most 1024, such as 2 or 1\.5, got "0"/,
    },
    {
      what: "KOZMIC_NETWORK with a space",
      groups: ["pipeline"],
      env: { KOZMIC_NETWORK: "a b" },
      refused:
        /KOZMIC_NETWORK must be a Docker network name such as none, host or bridge, got "a b"/,
    },
    {
      what: "KOZMIC_NO_NEW_PRIVILEGES yes",
      groups: ["pipeline"],
      env: { KOZMIC_NO_NEW_PRIVILEGES: "yes" },
      refused: /KOZMIC_NO_NEW_PRIVILEGES must be "true" or "false" \(or 1 or 0\), got "yes"/,
    },
    {
      what: "KOZMIC_CACHE_KEEP 0",
      groups: ["pipeline"],
      env: { KOZMIC_CACHE_KEEP: "0" },
      refused: /KOZMIC_CACHE_KEEP must be a whole number from 1 to 1000, got "0"/,
    },

    // Queue and store.
    {
      what: "SQS from KOZMIC_QUEUE_URL",
      groups: ["storage"],
      env: {
        KOZMIC_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/1/jobs",
        AWS_REGION: "eu-west-1",
      },
      accepted: (s) => {
        assert.equal(s.storage?.queue.kind, "sqs");
        assert.equal(
          s.storage?.planQueue.kind === "sqs" && s.storage.planQueue.queueUrl,
          "https://sqs.eu-west-1.amazonaws.com/1/jobs-plans",
        );
        if (s.server) assert.equal(s.server.embeddedRunner, false);
      },
    },
    {
      what: "a KOZMIC_QUEUE_URL that is no URL",
      groups: ["server", "storage"],
      env: { KOZMIC_QUEUE_URL: "sqs", AWS_REGION: "eu-west-1" },
      refused: /KOZMIC_QUEUE_URL must be an http\(s\) URL such as https:\/\/sqs\..*, got "sqs"/,
      alone: true,
    },
    {
      what: "KOZMIC_TABLE without AWS_REGION",
      groups: ["storage"],
      env: { KOZMIC_TABLE: "kozmic" },
      refused: /KOZMIC_TABLE set but AWS_REGION is not/,
      alone: true,
    },
    {
      what: "KOZMIC_PLAN_QUEUE_URL without KOZMIC_QUEUE_URL",
      groups: ["storage"],
      env: { KOZMIC_PLAN_QUEUE_URL: "http://127.0.0.1:9324/plans" },
      refused: /KOZMIC_PLAN_QUEUE_URL set but KOZMIC_QUEUE_URL is not/,
      alone: true,
    },
    {
      what: "KOZMIC_LOG_RETENTION_DAYS a week",
      groups: ["storage", "artifacts"],
      env: { KOZMIC_LOG_RETENTION_DAYS: "a week" },
      refused: /KOZMIC_LOG_RETENTION_DAYS must be a whole number from 1 to 3650, got "a week"/,
    },
    {
      what: "KOZMIC_ARTIFACT_MAX_SIZE lots",
      groups: ["artifacts", "artifactSize"],
      env: { KOZMIC_ARTIFACT_MAX_SIZE: "lots" },
      refused: /KOZMIC_ARTIFACT_MAX_SIZE must be a size such as "512m" or "2g"/,
    },
    {
      what: "KOZMIC_ARTIFACT_BUCKET with capitals",
      groups: ["artifacts"],
      env: { KOZMIC_ARTIFACT_BUCKET: "My_Bucket", AWS_REGION: "eu-west-1" },
      refused: /KOZMIC_ARTIFACT_BUCKET must be an S3 bucket name/,
    },
    {
      what: "KOZMIC_ARTIFACT_BUCKET without AWS_REGION",
      groups: ["artifacts"],
      env: { KOZMIC_ARTIFACT_BUCKET: "kozmic-artifacts" },
      refused: /KOZMIC_ARTIFACT_BUCKET set but AWS_REGION is not/,
      alone: true,
    },
    {
      what: "an AWS_ENDPOINT_URL_SQS without a scheme",
      groups: ["storage"],
      env: { AWS_ENDPOINT_URL_SQS: "localhost:9324" },
      refused: /AWS_ENDPOINT_URL_SQS must be an http\(s\) URL, got "localhost:9324"/,
    },
    // Repository secrets' key.
    {
      what: "no KOZMIC_SECRETS_KEY: secrets are off",
      groups: ["secrets"],
      env: {},
      accepted: (s) => assert.equal(s.secrets?.kind, "none"),
    },
    {
      what: "KOZMIC_SECRETS_KEY as 64 hex digits",
      groups: ["secrets"],
      env: { KOZMIC_SECRETS_KEY: "ab".repeat(32) },
      accepted: (s) =>
        assert.equal(s.secrets?.kind === "local" && s.secrets.key.toString("hex"), "ab".repeat(32)),
    },
    {
      what: "KOZMIC_SECRETS_KEY as base64, with KOZMIC_KMS_KEY_ID: KMS wraps, the local key only reads",
      groups: ["secrets"],
      env: {
        KOZMIC_SECRETS_KEY: Buffer.alloc(32, 7).toString("base64"),
        KOZMIC_KMS_KEY_ID: "alias/kozmic-secrets",
      },
      accepted: (s) => {
        assert.equal(s.secrets?.kind === "kms" && s.secrets.keyId, "alias/kozmic-secrets");
        assert.deepEqual(s.secrets?.previousKeys, [Buffer.alloc(32, 7)]);
      },
    },
    {
      what: "a KOZMIC_SECRETS_KEY too short, never echoed",
      groups: ["secrets"],
      env: { KOZMIC_SECRETS_KEY: "open-sesame-123" },
      refused: /KOZMIC_SECRETS_KEY must be 32 random bytes as 64 hex digits or base64/,
    },
    {
      what: "a KOZMIC_KMS_KEY_ID that is no key id",
      groups: ["secrets"],
      env: { KOZMIC_KMS_KEY_ID: "my key" },
      refused: /KOZMIC_KMS_KEY_ID must be a KMS key id, key ARN, alias name/,
    },
  ];
  return {
    base,
    key,
    rows,
    secrets: [key, "hunter2", "webhook-s3cret", "sesame", "open-sesame-123"],
    dir,
  };
}

/** `base` with a row's changes (undefined unsets). */
export function applyRow(
  base: Record<string, string>,
  row: Pick<SettingsRow, "env">,
): Record<string, string> {
  const env: Record<string, string> = { ...base };
  for (const [name, value] of Object.entries(row.env)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/**
 * The bad rows an entry point reads, combined into as few environments as possible: rows
 * that touch different variables share one, and `alone` rows are left to the in-process
 * table. For the real commands, where each environment costs a process.
 */
export function combinedBadRows(rows: SettingsRow[], reads: (row: SettingsRow) => boolean) {
  const picked: SettingsRow[] = [];
  const used = new Set<string>();
  for (const row of rows) {
    if (!row.refused || row.alone || !reads(row)) continue;
    const names = Object.keys(row.env);
    if (names.some((name) => used.has(name))) continue;
    for (const name of names) used.add(name);
    picked.push(row);
  }
  return picked;
}
