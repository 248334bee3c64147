import { DockerEngine } from "../../../runner/engine/docker-engine.js";

/** More Docker endpoints than one person's runs use; past it, they start over. */
const MOST_KEPT = 8;

/**
 * The run server's Docker engines, one per set of the variables Docker's client reads
 * (DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY, …, and SSH_AUTH_SOCK), kept from one run
 * to the next as a runner keeps its engine: each asks Docker once (/info, 10-35 ms on a busy
 * engine, ahead of a served run's first container) whether steps can bind their files.
 * Reads the environment when called: a served run's own.
 */
export class KeptDockerEngines {
  private readonly kept = new Map<string, DockerEngine>();

  forThisEnvironment(): DockerEngine {
    const key = JSON.stringify(
      Object.entries(process.env)
        .filter(([name]) => name.startsWith("DOCKER_") || name === "SSH_AUTH_SOCK")
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    let engine = this.kept.get(key);
    if (!engine) {
      if (this.kept.size >= MOST_KEPT) this.kept.clear();
      engine = new DockerEngine();
      this.kept.set(key, engine);
    }
    return engine;
  }
}
