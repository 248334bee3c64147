import type { CacheRegistry } from "../../src/core/cache-registry.js";

/**
 * What the fleet registry shows a client without credentials, as a job container on a
 * network that reaches it would: `GET /v2/_catalog` and the cache's tag list. Undefined
 * when both are refused (or the registry is ECR, where IAM decides); else the warning, which
 * names what answered. Docker speaks plain HTTP to 127.0.0.0/8 and HTTPS elsewhere.
 */
export async function anonymousRegistryAccess(
  registry: CacheRegistry,
  fetchImpl: typeof fetch = fetch,
): Promise<string | undefined> {
  if (registry.ecr) return undefined;
  const scheme = /^(127\.|localhost(:|$)|\[::1\])/.test(registry.host) ? "http" : "https";
  // A tag list of a repository not pushed yet is a 404 where no credentials are asked for.
  const paths: [path: string, answers: number[]][] = [
    ["/v2/_catalog", [200]],
    [`/v2/${registry.repository}/tags/list`, [200, 404]],
  ];
  const open: string[] = [];
  for (const [path, answers] of paths) {
    const url = `${scheme}://${registry.host}${path}`;
    const answer = await fetchImpl(url, {
      redirect: "manual",
      signal: AbortSignal.timeout(10_000),
    });
    await answer.body?.cancel();
    if (answers.includes(answer.status)) open.push(`GET ${path}`);
  }
  if (open.length === 0) return undefined;
  return (
    `the cache registry ${registry.host} answers ${open.join(" and ")} without credentials: ` +
    "any job that can reach it may list and pull every repository's installs. Require " +
    "credentials there (htpasswd or token auth; `docker login` as the runner's user) or use ECR"
  );
}

/**
 * What `kozmic doctor` and the runner's start line say about the fleet registry: a tag key
 * missing, the registry open to anonymous clients, or that it could not be asked.
 */
export async function registryWarnings(
  registry: CacheRegistry,
  fetchImpl: typeof fetch = fetch,
): Promise<string[]> {
  const warnings: string[] = [];
  if (!registry.tagKey) {
    warnings.push(
      "KOZMIC_CACHE_REGISTRY_KEY is not set: cache tags are plain hashes, which anyone who " +
        "knows a repository's install inputs can compute; give every runner the same secret " +
        "(e.g. `openssl rand -hex 32`)",
    );
  }
  try {
    const open = await anonymousRegistryAccess(registry, fetchImpl);
    if (open) warnings.push(open);
  } catch (error) {
    warnings.push(
      `could not ask ${registry.host} whether it answers without credentials: ${(error as Error).message}`,
    );
  }
  return warnings;
}
