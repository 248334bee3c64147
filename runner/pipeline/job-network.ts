import type { Engine } from "../engine/port.js";
import type { PipelineSettings } from "../../src/core/pipeline-settings.js";

export interface JobNetworkReport {
  problem: boolean;
  detail: string;
}

const ok = (detail: string): JobNetworkReport => ({ problem: false, detail });
const problem = (detail: string): JobNetworkReport => ({ problem: true, detail });

/**
 * Whether the network jobs get (KOZMIC_NETWORK, else Docker's bridge) is one the engine
 * has, in words for `kozmic doctor` and the runner's start.
 */
export async function describeJobNetwork(
  engine: Pick<Engine, "hasNetwork">,
  settings: Pick<PipelineSettings, "network" | "networkIsDefault">,
): Promise<JobNetworkReport> {
  const { network } = settings;
  let present: boolean;
  try {
    present = await engine.hasNetwork(network);
  } catch (error) {
    return problem(`cannot ask Docker for its networks: ${(error as Error).message}`);
  }
  if (settings.networkIsDefault) {
    return present
      ? ok(`${network} (Docker's default; KOZMIC_NETWORK chooses another)`)
      : problem(
          `the Docker engine has no "${network}" network (dockerd --bridge=none?), so jobs run ` +
            "without a network and installs that download fail: give dockerd its default " +
            "bridge, or set KOZMIC_NETWORK (none, to say so on purpose)",
        );
  }
  if (!present) {
    return problem(
      `KOZMIC_NETWORK=${network}: the Docker engine has no such network, so every job fails ` +
        `to start: create it (docker network create ${network}) or set KOZMIC_NETWORK to one it has`,
    );
  }
  return network === "none"
    ? ok("none (KOZMIC_NETWORK): jobs have no network; installs that download fail")
    : ok(`${network} (KOZMIC_NETWORK)`);
}
