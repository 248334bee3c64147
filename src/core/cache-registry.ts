import { createHash, createHmac } from "node:crypto";
import type { TrustScope } from "./cache-key.js";

/** Where the fleet's install cache lives: `KOZMIC_CACHE_REGISTRY`, parsed. */
export interface CacheRegistry {
  /** `host[:port]`, the key of Docker's `auths` and of ECR's endpoint. */
  host: string;
  /** The image repository inside the registry, e.g. `kozmic-cache`. */
  repository: string;
  /** Set when the host is an Amazon ECR registry: credentials come from the AWS SDK. */
  ecr?: { accountId: string; region: string };
  /** KOZMIC_CACHE_REGISTRY_KEY: the secret tags are keyed with (registryTag). */
  tagKey?: string;
}

const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$/;
// Docker's repository path grammar: lowercase components separated by `/`.
const PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** The account and region of an Amazon ECR registry host, or undefined for any other host. */
export function ecrHost(host: string): { accountId: string; region: string } | undefined {
  const match = ECR_HOST.exec(host);
  return match ? { accountId: match[1]!, region: match[2]! } : undefined;
}

/**
 * Parses `host[:port]/repository[/more]` (no scheme, no tag). Throws an Error whose message
 * says what a valid value looks like.
 */
export function parseCacheRegistry(value: string): CacheRegistry {
  const example =
    "a registry host and repository such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/kozmic-cache or 127.0.0.1:5000/kozmic-cache";
  const slash = value.indexOf("/");
  if (/^[a-z]+:\/\//i.test(value)) throw new Error(`drop the scheme: expected ${example}`);
  if (slash <= 0) throw new Error(`no repository after the host: expected ${example}`);
  const host = value.slice(0, slash);
  const repository = value.slice(slash + 1);
  if (!HOST.test(host)) throw new Error(`"${host}" is not a registry host: expected ${example}`);
  if (!PATH.test(repository))
    throw new Error(
      `"${repository}" is not a repository name (lowercase letters, digits, . _ - and /, no tag): expected ${example}`,
    );
  const ecr = ecrHost(host);
  return { host, repository, ...(ecr ? { ecr } : {}) };
}

/** `host/repository`: the name images are tagged with before a push. */
export function registryImageName(registry: CacheRegistry): string {
  return `${registry.host}/${registry.repository}`;
}

/**
 * The tag of a cached install in the registry: `<scope>-<digest>`, the digest an HMAC of
 * the repository, scope and key under `tagKey` (KOZMIC_CACHE_REGISTRY_KEY, which only
 * runners have). A tag list then shows no repository ids, and nobody without the key can
 * tell which tag holds which repository's install, even knowing its inputs. Without a key
 * the digest is a plain sha256: still no ids, but computable by whoever knows the inputs.
 * The scope stays readable, so lifecycle rules can give forks' installs a shorter life.
 */
export function registryTag(
  repositoryId: string,
  scope: TrustScope,
  key: string,
  tagKey?: string,
): string {
  if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`not a cache key: ${key}`);
  const named = JSON.stringify([repositoryId, scope, key]);
  const digest = tagKey
    ? createHmac("sha256", tagKey).update(named, "utf8").digest("hex")
    : createHash("sha256").update(named, "utf8").digest("hex");
  return `${scope}-${digest}`;
}

/** `host/repository:tag` of a cached install. */
export function registryImageRef(
  registry: CacheRegistry,
  repositoryId: string,
  scope: TrustScope,
  key: string,
): string {
  return `${registryImageName(registry)}:${registryTag(repositoryId, scope, key, registry.tagKey)}`;
}
