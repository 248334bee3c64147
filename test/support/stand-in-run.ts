import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { localRepositoryId } from "../../src/cli/run-hooks.js";
import { STAND_IN_IMAGE } from "./stand-in-image.js";

/**
 * How many projects a stand-in test file runs at once. Most of a project's run is waiting
 * on its registry's downloads and on Docker, so a few side by side take little longer than
 * one, where one after another they were the longest files of the suite. Each project has
 * its own directory, repository id and cache images; they share the data directory, as
 * several `kozmic run`s of one user do.
 */
export const STAND_IN_CONCURRENCY = 3;

/**
 * A test file's place to run `kozmic run` on projects with the stand-in image: a temporary
 * directory with its own data directory, the environment jobs need on an engine whose bridge
 * has no route out (the host's network reaches the registries), and, after the file, the
 * cache images of every project run removed with the directory.
 */
export function standInWorkspace(prefix: string) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const dirs: string[] = [];
  after(async () => {
    const engine = new DockerEngine();
    for (const dir of dirs)
      for (const image of await engine.findImages({ "kozmic.cache.repo": localRepositoryId(dir) }))
        await engine.removeImage(image.id).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  });
  return {
    work,
    /** Removes the project's cache images after the file. */
    track(dir: string): string {
      dirs.push(dir);
      return dir;
    },
    env(more: Record<string, string> = {}): NodeJS.ProcessEnv {
      return {
        ...process.env,
        KOZMIC_DATA_DIR: join(work, "data"),
        KOZMIC_NETWORK: "host",
        KOZMIC_ALLOW_HOST_NETWORK: "true",
        ...more,
      };
    },
  };
}

/** A configuration with each of `images` (as `image: <name>` lines) swapped for the stand-in. */
export function onStandIn(text: string, images: Iterable<string>): string {
  let swapped = text;
  for (const image of new Set(images)) {
    const escaped = image.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    swapped = swapped.replace(
      new RegExp(`image: ${escaped}(?=[\\s#]|$)`, "g"),
      `image: ${STAND_IN_IMAGE}`,
    );
  }
  return swapped;
}
