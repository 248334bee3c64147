import { createSign } from "node:crypto";
import type { AppCredentials } from "../settings/app-credentials.js";
import { ok, problem, type CheckResult } from "./check-result.js";

/** An App JWT as GitHub takes it (RS256, iss = App ID, valid for under 10 minutes). */
function appJwt(appId: number, privateKey: string, nowSeconds: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${part({ alg: "RS256", typ: "JWT" })}.${part({
    iat: nowSeconds - 60,
    exp: nowSeconds + 540,
    iss: appId,
  })}`;
  const signer = createSign("RSA-SHA256");
  signer.update(unsigned);
  return `${unsigned}.${signer.sign(privateKey, "base64url")}`;
}

/** `GET /app` with a JWT from APP_ID and PRIVATE_KEY: GitHub accepts the App's credentials. */
export async function checkGitHubApp(
  credentials: AppCredentials,
  timeoutMs = 10_000,
): Promise<CheckResult> {
  const url = `${credentials.baseUrl}/app`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${appJwt(credentials.appId, credentials.privateKey, Math.floor(Date.now() / 1000))}`,
        "user-agent": "kozmic-doctor",
        "x-github-api-version": "2022-11-28",
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return problem(
      "github app",
      `cannot reach GitHub at ${credentials.baseUrl} (${cause?.code ?? cause?.message ?? (error as Error).message}): ` +
        "check GHE_HOST and GHE_PROTOCOL (unset for github.com) and this host's network",
    );
  }
  const body = (await response.json().catch(() => ({}))) as {
    id?: number;
    slug?: string;
    message?: string;
  };
  if (response.ok) {
    return ok(
      "github app",
      `GitHub at ${credentials.baseUrl} knows App ${body.slug} (id ${body.id})`,
    );
  }
  if (response.status === 401) {
    return problem(
      "github app",
      `GitHub at ${credentials.baseUrl} refused the App's credentials (HTTP 401: ${body.message ?? "no message"}): ` +
        `APP_ID (${credentials.appId}) must be the App ID on the App's settings page, and PRIVATE_KEY ` +
        "(or PRIVATE_KEY_PATH) a private key generated there for that App; the host's clock must be right",
    );
  }
  return problem(
    "github app",
    `GitHub at ${credentials.baseUrl} answered GET /app with HTTP ${response.status} ` +
      `(${body.message ?? "no message"}): check GHE_HOST and GHE_PROTOCOL`,
  );
}
