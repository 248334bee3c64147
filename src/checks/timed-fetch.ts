type Fetch = typeof globalThis.fetch;

/**
 * `fetch` with each request given up after `ms` (a TimeoutError, which Octokit reports as a
 * 500 and its retry plugin may try again): a GitHub that accepts connections and never
 * answers cannot hold a caller past its own deadline.
 */
export function timedFetch(ms: number, fetch: Fetch = globalThis.fetch): Fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetch(input, { ...init, signal });
  };
}
