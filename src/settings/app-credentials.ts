import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import * as z from "zod";
import { parsedVar, patternVar } from "./env-vars.js";
import { problemsOf, type Env, type SettingsGroup } from "./settings-group.js";
import { GITHUB_VARIABLES, githubUrls } from "./shared-variables.js";

/** The GitHub App's credentials, Probot's way: APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, GHE_*. */
export interface AppCredentials {
  appId: number;
  /** PEM. */
  privateKey: string;
  /** GitHub's REST API: https://api.github.com, or `<GHE_PROTOCOL>://<GHE_HOST>/api/v3`. */
  baseUrl: string;
}

const PEM_FORMS =
  "the app's private key: PEM (-----BEGIN RSA PRIVATE KEY-----...), PEM with \\n escapes, or base64 of the PEM";

const variables = z.object({
  APP_ID: patternVar(
    "APP_ID",
    /^\s*[1-9][0-9]{0,15}\s*$/,
    "the GitHub App's numeric App ID",
  ).transform((id, ctx) => {
    if (id === undefined) {
      ctx.addIssue({
        code: "custom",
        message: "APP_ID is required: the App ID from the GitHub App's settings page",
      });
      return z.NEVER;
    }
    return Number(id);
  }),
  // Never echoed: a message must not print a key.
  PRIVATE_KEY: parsedVar(decodePrivateKey, () => `PRIVATE_KEY must be ${PEM_FORMS}`),
  PRIVATE_KEY_PATH: z.string().optional(),
  ...GITHUB_VARIABLES,
});

/**
 * The app's private key as PEM, from any form PRIVATE_KEY takes: PEM with real newlines,
 * PEM with `\n` escapes (one-line .env files), or base64 of the PEM (secret stores that
 * dislike newlines). Undefined when the text holds no usable private key.
 */
function decodePrivateKey(text: string): string | undefined {
  const pem = text.includes("-----BEGIN")
    ? text.replace(/\\n/g, "\n")
    : Buffer.from(text.trim(), "base64").toString("utf8");
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) return undefined;
  try {
    // Caught here rather than as a JWT signing failure on the first webhook or job.
    createPrivateKey(pem);
  } catch {
    return undefined;
  }
  return pem;
}

/** PRIVATE_KEY_PATH's key, read only when PRIVATE_KEY is unset (Probot's order). */
function keyFromPath(path: string | undefined): { pem: string } | { problem: string } {
  if (path === undefined) {
    return {
      problem:
        "PRIVATE_KEY or PRIVATE_KEY_PATH is required: the key (or the .pem file) generated on the GitHub App's settings page",
    };
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { problem: `PRIVATE_KEY_PATH must name a readable file, got "${path}" (${code})` };
  }
  const pem = decodePrivateKey(text);
  return pem === undefined
    ? { problem: `PRIVATE_KEY_PATH must name a file holding ${PEM_FORMS}; "${path}" does not` }
    : { pem };
}

export const appCredentialsGroup: SettingsGroup<AppCredentials> = {
  read(env: Env) {
    const parsed = variables.safeParse(env);
    const problems = parsed.success ? [] : problemsOf(parsed.error);
    const fromFile = env.PRIVATE_KEY === undefined ? keyFromPath(env.PRIVATE_KEY_PATH) : undefined;
    if (fromFile && "problem" in fromFile) problems.push(fromFile.problem);
    if (!parsed.success || problems.length > 0) return { ok: false, problems };
    const e = parsed.data;
    return {
      ok: true,
      value: {
        appId: e.APP_ID,
        // PRIVATE_KEY was parsed, or else its file was read.
        privateKey: e.PRIVATE_KEY ?? (fromFile as { pem: string }).pem,
        baseUrl: githubUrls(e).apiUrl,
      },
    };
  },
};
