import { createHash } from "node:crypto";
import type { TrustScope } from "./cache-key.js";

/** Where the fleet's install cache lives: `KOZMIC_CACHE_REGISTRY`, parsed. */
export interface CacheRegistry {
  /** `host[:port]`, the key of Docker's `auths` and of ECR's endpoint. */
  host: string;
  /** The image repository inside the registry, e.g. `kozmic-cache`. */
  repository: string;
  /** Set when the host is an Amazon ECR registry: credentials come from the AWS SDK. */
  ecr?: { accountId: string; region: string };
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
 * The tag of a cached install in the registry: `<scope>-<repository>-<key>`. The scope and
 * the repository come first, so that trusted and untrusted installs and each repository's
 * installs are apart by tag prefix (lifecycle rules and permissions can name them), and a
 * job only ever computes tags of its own repository. Docker tags are at most 128
 * characters: a repository id too long to spell out is replaced by its hash.
 */
export function registryTag(repositoryId: string, scope: TrustScope, key: string): string {
  if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`not a cache key: ${key}`);
  let repo = repositoryId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  // A repository id that needed changing is hashed, so two ids never share a tag.
  if (!repo || repo !== repositoryId || repo.length > 40 || /^h[0-9a-f]{32}$/.test(repo))
    repo = `h${createHash("sha256").update(repositoryId, "utf8").digest("hex").slice(0, 32)}`;
  return `${scope}-${repo}-${key}`;
}

/** `host/repository:tag` of a cached install. */
export function registryImageRef(
  registry: CacheRegistry,
  repositoryId: string,
  scope: TrustScope,
  key: string,
): string {
  return `${registryImageName(registry)}:${registryTag(repositoryId, scope, key)}`;
}
