/** What the GitHub API did to us, for metrics: error answers and rate-limit waits. */
export interface GitHubApiObserver {
  /**
   * An HTTP answer of 400 or more (every attempt, also those Octokit then retries), or
   * "network" for a request that got no answer at all.
   */
  error(status: number | "network"): void;
  /** Octokit waits `seconds` before trying a rate-limited request again. */
  rateLimitWait(kind: "primary" | "secondary", seconds: number): void;
}

const OBSERVED = Symbol("kozmic.observedFetch");
type Fetch = typeof globalThis.fetch;

/**
 * `fetch` that tells `observer` about each error answer and each request without one. At
 * the fetch level every attempt is seen (Octokit's retries sit above it), and a network
 * failure is not confused with the 500 Octokit turns it into. Wrapping twice is a no-op.
 */
export function observedFetch(observer: GitHubApiObserver, fetch: Fetch = globalThis.fetch): Fetch {
  if ((fetch as Fetch & { [OBSERVED]?: boolean })[OBSERVED]) return fetch;
  const observed = async (input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) => {
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (error) {
      // Our own abort (a timeout or a stop) is not GitHub's failure.
      if ((error as Error).name !== "AbortError") observer.error("network");
      throw error;
    }
    if (response.status >= 400) observer.error(response.status);
    return response;
  };
  return Object.assign(observed, { [OBSERVED]: true }) as Fetch;
}

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
