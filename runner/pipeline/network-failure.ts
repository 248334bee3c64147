/**
 * What common tools print when a name does not resolve or the network is not there (busybox
 * wget, curl, git, glibc, Node, pip, apt, Go, Cargo, Java). Pure: no I/O.
 */
const NETWORK_FAILURE = new RegExp(
  [
    "bad address '",
    "Could not resolve host",
    "Couldn't resolve host",
    "Temporary failure in name resolution",
    "Temporary failure resolving",
    "Name or service not known",
    "getaddrinfo (?:ENOTFOUND|EAI_AGAIN)",
    "failed to lookup address information",
    "dial tcp: lookup \\S+",
    "UnknownHostException",
    "Network is unreachable",
    "Failed to establish a new connection",
  ].join("|"),
);

/** Watches a step's output, in the chunks it arrives in, for a network failure. */
export function networkFailureWatch(): { see(text: string): void; readonly seen: boolean } {
  let tail = "";
  let seen = false;
  return {
    see(text) {
      if (seen) return;
      const window = tail + text;
      seen = NETWORK_FAILURE.test(window);
      tail = window.slice(-200);
    },
    get seen() {
      return seen;
    },
  };
}

/** Why a failed step that could not reach the network could not, and what to change. */
export function explainNetworkFailure(input: {
  /** The network the job ran on. */
  network: string;
  /** The hook's `network:` and the runner's KOZMIC_NETWORK it chose between. */
  hookNetwork: string;
  runnerNetwork: string;
  /** The runner's default network, which the engine did not have. */
  engineLacks?: string;
  untrusted: boolean;
  where: string;
}): string {
  const { network, hookNetwork, runnerNetwork, where } = input;
  if (network !== "none") {
    return (
      "a name did not resolve or the network was unreachable on the job's Docker network " +
      `"${network}": check that it reaches the internet from ${where}`
    );
  }
  const runnerFix =
    `set KOZMIC_NETWORK on ${where} to a Docker network that reaches the internet ` +
    "(`bridge`, for instance)";
  let why: string;
  let fix: string;
  if (input.engineLacks !== undefined) {
    why = `the Docker engine on ${where} has no "${input.engineLacks}" network`;
    fix = `give dockerd its default bridge, or ${runnerFix}`;
  } else if (hookNetwork === "none") {
    why = "the hook sets `network: none`";
    fix = "remove `network: none` from the hook to use the runner's network";
  } else if (input.untrusted && (hookNetwork === "host" || runnerNetwork === "host")) {
    why = "pull requests from forks never get the host network";
    fix = runnerFix;
  } else {
    why = `KOZMIC_NETWORK is none on ${where}`;
    fix = `${runnerFix}, or \`host\` with KOZMIC_ALLOW_HOST_NETWORK=true`;
  }
  return `this job had no network (${why}), and the step needed one: ${fix}`;
}
