import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { CacheRegistry } from "../../src/core/cache-registry.js";
import { decodeEcrToken, tokenNeedsRefresh, type RegistryToken } from "../../src/core/ecr-token.js";
import type { RegistryAuth } from "../engine/port.js";

/** Credentials for the fleet cache's registry, fetched when needed; undefined: anonymous. */
export interface RegistryCredentials {
  get(): Promise<RegistryAuth | undefined>;
  /** Where they come from, for messages: never the credentials themselves. */
  readonly source: string;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
}

/** `https://host:port/v1/` and `host:port` name the same registry in Docker's `auths`. */
function hostOf(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
}

/**
 * The registry's entry in Docker's client config (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`), as `docker login` writes it. Credential helpers
 * (`credsStore`, `credHelpers`) are not read: log in with a plain `auths` entry.
 */
export function dockerConfigCredentials(
  host: string,
  configDir = process.env.DOCKER_CONFIG ?? join(homedir(), ".docker"),
): RegistryCredentials {
  const file = join(configDir, "config.json");
  return {
    source: `${file} (auths of ${host})`,
    async get() {
      let config: DockerConfigFile;
      try {
        config = JSON.parse(await readFile(file, "utf8")) as DockerConfigFile;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw new Error(`cannot read ${file}: ${(error as Error).message}`);
      }
      const entry = Object.entries(config.auths ?? {}).find(([key]) => hostOf(key) === host)?.[1];
      if (!entry) return undefined;
      let { username, password } = entry;
      if (!username || !password) {
        const text = Buffer.from(entry.auth ?? "", "base64").toString("utf8");
        const colon = text.indexOf(":");
        if (colon <= 0) throw new Error(`${file}: the auths entry of ${host} has no user:password`);
        username = text.slice(0, colon);
        password = text.slice(colon + 1);
      }
      return { username, password, serveraddress: host };
    },
  };
}

/** Fetches a fresh token; the default asks ECR's GetAuthorizationToken through the AWS SDK. */
export type FetchEcrToken = (region: string) => Promise<RegistryToken>;

const fetchEcrToken: FetchEcrToken = async (region) => {
  const { ECRClient, GetAuthorizationTokenCommand } = await import("@aws-sdk/client-ecr");
  const client = new ECRClient({ region });
  try {
    const answer = await client.send(new GetAuthorizationTokenCommand({}));
    const data = answer.authorizationData?.[0];
    if (!data?.authorizationToken || !data.expiresAt)
      throw new Error("ECR answered GetAuthorizationToken without a token");
    return decodeEcrToken(data.authorizationToken, data.expiresAt.getTime());
  } finally {
    client.destroy();
  }
};

/**
 * ECR credentials from GetAuthorizationToken (the host's AWS credentials: instance role,
 * environment), kept until shortly before they expire, then fetched again.
 */
export function ecrCredentials(
  registry: CacheRegistry & { ecr: NonNullable<CacheRegistry["ecr"]> },
  options: { fetch?: FetchEcrToken; now?: () => number } = {},
): RegistryCredentials {
  const fetchToken = options.fetch ?? fetchEcrToken;
  const now = options.now ?? Date.now;
  let token: RegistryToken | undefined;
  let fetching: Promise<RegistryToken> | undefined;
  return {
    source: `ECR GetAuthorizationToken in ${registry.ecr.region}`,
    async get() {
      if (tokenNeedsRefresh(token, now())) {
        fetching ??= fetchToken(registry.ecr.region).finally(() => (fetching = undefined));
        token = await fetching;
      }
      return { username: token!.username, password: token!.password, serveraddress: registry.host };
    },
  };
}

/** ECR's token for an ECR host, else Docker's own client config. */
export function registryCredentials(registry: CacheRegistry): RegistryCredentials {
  return registry.ecr
    ? ecrCredentials({ ...registry, ecr: registry.ecr })
    : dockerConfigCredentials(registry.host);
}
