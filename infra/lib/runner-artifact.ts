import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";

/** The machine names `uname -m` prints, by Node's `process.arch`. */
export const MACHINE: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };

/** The runner artifact's file name for an architecture: kozmic-runner-linux-x64.tar.gz. */
export function runnerArtifactName(arch: string): string {
  return `kozmic-runner-linux-${arch}.tar.gz`;
}

/** The runner software the stack deploys (scripts/bundle-runner.ts writes it). */
export interface RunnerArtifactFile {
  /** The tarball on the deploying machine; uploaded as an S3 asset. */
  path: string;
  sha256: string;
  /** `uname -m` of the hosts it runs on. */
  machine: string;
}

/** The artifact at `path`: its sha256, and its hosts' machine from its name. */
export function readRunnerArtifact(path: string): RunnerArtifactFile {
  const arch = /^kozmic-runner-linux-(\w+)\.tar\.gz$/.exec(basename(path))?.[1];
  const machine = arch === undefined ? undefined : MACHINE[arch];
  if (machine === undefined) {
    throw new Error(
      `${path} is not named like a runner artifact (${runnerArtifactName("x64")} or ${runnerArtifactName("arm64")})`,
    );
  }
  const sha256 = createHash("sha256").update(readFileSync(path)).digest("hex");
  return { path, sha256, machine };
}
