import type { DockerEngine } from "../../runner/engine/docker-engine.js";
import { ok, problem, type CheckResult } from "./check-result.js";

/** Docker answers, and which version it is. */
export async function checkDocker(
  engine: Pick<DockerEngine, "version">,
  dockerHost: string | undefined,
): Promise<CheckResult> {
  const where = dockerHost?.trim() || "unix:///var/run/docker.sock (the default)";
  try {
    const { version, apiVersion } = await engine.version();
    return ok("docker", `Docker ${version} (API ${apiVersion}) at ${where}`);
  } catch (error) {
    return problem(
      "docker",
      `${(error as Error).message}, at ${where}: start Docker, or set DOCKER_HOST to its socket ` +
        "(and give this user access to it, e.g. the docker group)",
    );
  }
}
