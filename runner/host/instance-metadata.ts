/**
 * EC2's instance metadata service, version 2: a session token from `PUT /latest/api/token`
 * goes with every read. The launch template requires v2 (no token, no answer).
 */
export interface InstanceMetadata {
  /** The value at `/latest/meta-data/<path>`, or undefined when it does not exist (404). */
  get(path: string): Promise<string | undefined>;
}

const TOKEN_TTL_SECONDS = 6 * 3600;
const REQUEST_TIMEOUT_MS = 2_000;

export function instanceMetadata(baseUrl: string): InstanceMetadata {
  let token: { value: string; until: number } | undefined;
  const fresh = async (): Promise<string> => {
    if (token && token.until > Date.now()) return token.value;
    const response = await fetch(`${baseUrl}/latest/api/token`, {
      method: "PUT",
      headers: { "X-aws-ec2-metadata-token-ttl-seconds": String(TOKEN_TTL_SECONDS) },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`instance metadata token: HTTP ${response.status}`);
    // Renewed well before the service stops honouring it.
    token = { value: await response.text(), until: Date.now() + (TOKEN_TTL_SECONDS / 2) * 1000 };
    return token.value;
  };
  return {
    async get(path) {
      const read = async () =>
        fetch(`${baseUrl}/latest/meta-data/${path}`, {
          headers: { "X-aws-ec2-metadata-token": await fresh() },
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      let response = await read();
      if (response.status === 401) {
        // The token expired early (the service restarted): once more with a new one.
        token = undefined;
        response = await read();
      }
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`instance metadata ${path}: HTTP ${response.status}`);
      return await response.text();
    },
  };
}
