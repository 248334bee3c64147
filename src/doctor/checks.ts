import { createSign } from "node:crypto";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { DockerEngine } from "../../runner/engine/docker-engine.js";
import type { AppCredentials } from "../settings/app-credentials.js";

/** One line of `kozmic doctor`: what was checked, and either what was found or what to do. */
export interface CheckResult {
  check: string;
  status: "ok" | "problem" | "skipped";
  detail: string;
}

const result =
  (status: CheckResult["status"]) =>
  (check: string, detail: string): CheckResult => ({ check, status, detail });
export const ok = result("ok");
export const problem = result("problem");
export const skipped = result("skipped");

/** The line a user reads: `ok      docker: Docker 27.5.1 ...`. */
export function formatCheck(result: CheckResult): string {
  return `${result.status.padEnd(8)}${result.check}: ${result.detail}`;
}

/** Why a fetch got no answer: the network error's code, else its message. */
function whyUnreachable(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** Docker answers, and which version it is. */
export async function checkDocker(
  engine: Pick<DockerEngine, "version">,
  dockerHost: string | undefined,
): Promise<CheckResult> {
  const where = dockerHost?.trim() || "unix:///var/run/docker.sock (the default)";
  try {
    const { version, apiVersion } = await engine.version();
    return ok("docker", `Docker ${version} (API ${apiVersion}) at ${where}`);
  } catch (error) {
    return problem(
      "docker",
      `${(error as Error).message}, at ${where}: start Docker, or set DOCKER_HOST to its socket ` +
        "(and give this user access to it, e.g. the docker group)",
    );
  }
}

/** `${KOZMIC_PUBLIC_URL}/healthz` answers 200: the links on check runs lead somewhere. */
export async function checkPublicUrl(publicUrl: string | undefined): Promise<CheckResult> {
  if (!publicUrl) {
    return skipped(
      "public URL",
      "KOZMIC_PUBLIC_URL is not set, so check runs link to http://localhost:<PORT>: set it to the " +
        "address where users reach kozmic serve",
    );
  }
  const url = `${publicUrl.replace(/\/+$/, "")}/healthz`;
  let status: number;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    status = response.status;
    await response.body?.cancel();
  } catch (error) {
    return problem(
      "public URL",
      `${url} does not answer (${whyUnreachable(error)}): check that kozmic serve runs and that KOZMIC_PUBLIC_URL is ` +
        "the address users reach it at",
    );
  }
  if (status === 200) return ok("public URL", `${url} answers 200`);
  return problem(
    "public URL",
    `${url} answers HTTP ${status}, not 200: KOZMIC_PUBLIC_URL must lead to kozmic serve ` +
      "(a proxy in front of it must pass /healthz and /jobs/ through)",
  );
}

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
export async function checkGitHubApp(credentials: AppCredentials): Promise<CheckResult> {
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
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    return problem(
      "github app",
      `cannot reach GitHub at ${credentials.baseUrl} (${whyUnreachable(error)}): ` +
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

/** What in the data directory holds logs, secrets and the App's key: this user's alone. */
const PRIVATE = ["", "kozmic.db", "kozmic.db-wal", "kozmic.db-shm", ".env"];

/**
 * On embedded defaults: KOZMIC_DATA_DIR is a directory this user may write, or can be made,
 * and no other user may read it or its database.
 */
export async function checkDataDir(dataDir: string): Promise<CheckResult> {
  const path = resolve(dataDir);
  const what = `KOZMIC_DATA_DIR ${path} (embedded queue and store)`;
  for (let dir = path; ; dir = dirname(dir)) {
    let isDirectory;
    try {
      isDirectory = (await stat(dir)).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dir === dirname(dir)) {
        return problem("data directory", `${what}: ${(error as Error).message}`);
      }
      continue;
    }
    if (!isDirectory) {
      return problem(
        "data directory",
        `${what}: ${dir} is a file, not a directory: set KOZMIC_DATA_DIR to a directory`,
      );
    }
    try {
      await access(dir, constants.W_OK | constants.X_OK);
    } catch {
      return problem(
        "data directory",
        `${what}: this user may not write to ${dir}: change its owner or set KOZMIC_DATA_DIR elsewhere`,
      );
    }
    if (dir !== path) return ok("data directory", `${what} does not exist yet and can be created`);
    const exposed: string[] = [];
    for (const name of PRIVATE) {
      const file = join(path, name);
      const mode = await stat(file).then(
        (s) => s.mode,
        () => 0,
      );
      if ((mode & 0o077) !== 0) exposed.push(`${file} (${(mode & 0o777).toString(8)})`);
    }
    if (exposed.length > 0) {
      return problem(
        "data directory",
        `${what}: other users may reach ${exposed.join(", ")} (private logs and secrets): ` +
          `run chmod -R go= ${path}`,
      );
    }
    return ok("data directory", `${what} is writable and this user's alone`);
  }
}
