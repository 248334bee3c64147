import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import {
  envWithSecret,
  parseSecretEnv,
  readSecretEnv,
  SECRET_KEYS,
  withSecretEnv,
} from "../../src/settings/secret-env.js";
import { SettingsError } from "../../src/settings/settings-error.js";

const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kozmic-AbCdEf";
const FULL = {
  PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nsecret-key\n-----END RSA PRIVATE KEY-----",
  WEBHOOK_SECRET: "hook-s3cret",
  GITHUB_CLIENT_SECRET: "",
  KOZMIC_SESSION_SECRET: "x".repeat(32),
};

function refusal(read: () => unknown): SettingsError {
  try {
    read();
  } catch (error) {
    assert.ok(error instanceof SettingsError, String(error));
    return error;
  }
  assert.fail("accepted");
}

describe("the Lambda's secret (KOZMIC_SECRET_ARN)", () => {
  it("gives the four keys of a JSON object, and nothing else it holds", () => {
    const parsed = parseSecretEnv(ARN, JSON.stringify({ ...FULL, rotatedAt: "2026-01-01" }));
    assert.deepEqual(parsed, FULL);
    assert.deepEqual(Object.keys(parsed), [...SECRET_KEYS]);
  });

  it("names the secret and every missing key, or what is wrong with its value, never a value", () => {
    const cases: [string | undefined, RegExp][] = [
      [undefined, /which holds no text \(a binary secret\?\)/],
      ["PRIVATE_KEY=abc", /whose value is not JSON: it must be a JSON object/],
      ['["hook-s3cret"]', /whose value is not a JSON object/],
      ["null", /whose value is not a JSON object/],
      [
        JSON.stringify({ PRIVATE_KEY: FULL.PRIVATE_KEY, WEBHOOK_SECRET: "hook-s3cret" }),
        /which lacks GITHUB_CLIENT_SECRET, KOZMIC_SESSION_SECRET: it must be a JSON object with the string keys PRIVATE_KEY, WEBHOOK_SECRET, GITHUB_CLIENT_SECRET, KOZMIC_SESSION_SECRET/,
      ],
      [JSON.stringify({ ...FULL, WEBHOOK_SECRET: 42 }), /whose WEBHOOK_SECRET must be strings/],
    ];
    for (const [text, problem] of cases) {
      const error = refusal(() => parseSecretEnv(ARN, text));
      assert.ok(
        error.message.startsWith(`KOZMIC_SECRET_ARN names the secret ${ARN}`),
        error.message,
      );
      assert.match(error.message, problem);
      assert.doesNotMatch(error.message, /secret-key|hook-s3cret|PRIVATE_KEY=abc/);
    }
  });

  it("lets a non-blank variable of the function's own environment win over the secret", () => {
    const env = withSecretEnv({ WEBHOOK_SECRET: "from-env", PRIVATE_KEY: "  ", APP_ID: "7" }, FULL);
    assert.equal(env.WEBHOOK_SECRET, "from-env");
    assert.equal(env.PRIVATE_KEY, FULL.PRIVATE_KEY, "a blank variable counts as unset");
    assert.equal(env.APP_ID, "7");
    assert.equal(env.KOZMIC_SESSION_SECRET, FULL.KOZMIC_SESSION_SECRET);
  });

  it("asks Secrets Manager for the ARN, and reports its errors by kind", async () => {
    const asked: unknown[] = [];
    const reader = (reply: () => Promise<{ SecretString?: string }>) => ({
      send(command: GetSecretValueCommand) {
        asked.push(command.input);
        return reply();
      },
    });
    const env = await envWithSecret({ KOZMIC_SECRET_ARN: ARN, APP_ID: "7" }, () =>
      reader(async () => ({ SecretString: JSON.stringify(FULL) })),
    );
    assert.deepEqual(asked, [{ SecretId: ARN }]);
    assert.equal(env.WEBHOOK_SECRET, "hook-s3cret");
    assert.equal(env.APP_ID, "7");

    const plain = { APP_ID: "7" };
    assert.equal(await envWithSecret(plain, () => assert.fail("no secret to read")), plain);

    const fault = (name: string) => () =>
      Promise.reject(Object.assign(new Error(`${name} from AWS`), { name }));
    await assert.rejects(readSecretEnv(reader(fault("AccessDeniedException")), ARN), (error) => {
      assert.ok(error instanceof SettingsError);
      assert.match(
        error.message,
        new RegExp(`secret ${ARN}, which could not be read: AccessDeniedException`),
      );
      assert.match(error.message, /secretsmanager:GetSecretValue/);
      return true;
    });
    await assert.rejects(readSecretEnv(reader(fault("InternalServiceError")), ARN), (error) => {
      assert.equal(
        (error as Error).name,
        "InfrastructureError",
        "an outage is retried, not blamed on settings",
      );
      return true;
    });
  });
});
