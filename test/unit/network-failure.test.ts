import assert from "node:assert/strict";
import { test } from "node:test";
import {
  explainNetworkFailure,
  networkFailureWatch,
} from "../../runner/pipeline/network-failure.js";

test("the failures of common tools without a network are noticed, also split across chunks", () => {
  for (const line of [
    "wget: bad address 'pypi.org'",
    "curl: (6) Could not resolve host: github.com",
    "W: Failed to fetch http://deb.debian.org/...  Temporary failure resolving 'deb.debian.org'",
    "npm ERR! request to https://registry.npmjs.org/x failed, reason: getaddrinfo EAI_AGAIN registry.npmjs.org",
    "WARNING: Retrying ... NewConnectionError: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution",
    'go: github.com/x/y@v1: Get "https://proxy.golang.org/...": dial tcp: lookup proxy.golang.org on 127.0.0.11:53: no such host',
    "error: failed to download from `https://index.crates.io/config.json`: [6] Couldn't resolve host name",
    "java.net.UnknownHostException: repo.maven.apache.org",
    "connect: Network is unreachable",
  ]) {
    const watch = networkFailureWatch();
    const cut = Math.floor(line.length / 2);
    watch.see(line.slice(0, cut));
    watch.see(line.slice(cut) + "\n");
    assert.equal(watch.seen, true, line);
  }
  const quiet = networkFailureWatch();
  quiet.see('npm ERR! Missing script: "lint"\nconnection refused by the test server\n');
  assert.equal(quiet.seen, false);
});

test("the hint says which setting took the network away and what to change", () => {
  const base = {
    hookNetwork: "default",
    runnerNetwork: "none",
    untrusted: false,
    where: "runner r1",
  };
  assert.equal(
    explainNetworkFailure({ ...base, network: "none" }),
    "this job had no network (KOZMIC_NETWORK is none on runner r1), and the step needed one: " +
      "set KOZMIC_NETWORK on runner r1 to a Docker network that reaches the internet (`bridge`, " +
      "for instance), or `host` with KOZMIC_ALLOW_HOST_NETWORK=true",
  );
  assert.match(
    explainNetworkFailure({
      ...base,
      network: "none",
      hookNetwork: "none",
      runnerNetwork: "bridge",
    }),
    /\(the hook sets `network: none`\), .*: remove `network: none` from the hook/,
  );
  assert.match(
    explainNetworkFailure({ ...base, network: "none", runnerNetwork: "host", untrusted: true }),
    /\(pull requests from forks never get the host network\)/,
  );
  assert.match(
    explainNetworkFailure({
      ...base,
      network: "none",
      runnerNetwork: "bridge",
      engineLacks: "bridge",
    }),
    /\(the Docker engine on runner r1 has no "bridge" network\), .*: give dockerd its default bridge, or set KOZMIC_NETWORK/,
  );
  assert.equal(
    explainNetworkFailure({ ...base, network: "ci-net", runnerNetwork: "ci-net" }),
    'a name did not resolve or the network was unreachable on the job\'s Docker network "ci-net": ' +
      "check that it reaches the internet from runner r1",
  );
});
