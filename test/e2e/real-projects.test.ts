import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { runKozmic } from "../support/kozmic-cli.js";
import { unpackPublishedSource, type PublishedProject } from "../support/published-source.js";
import { ensureStandInImage } from "../support/stand-in-image.js";
import { onStandIn, STAND_IN_CONCURRENCY, standInWorkspace } from "../support/stand-in-run.js";

/**
 * `kozmic init` then `kozmic run` on real public projects, as their registries publish them
 * (fetched at test time by each registry's own client, never kept in this repository):
 * each must pass its own test suite with the configuration init wrote.
 * Official images cannot be pulled here, so each hook's image (asserted as init wrote it)
 * is swapped for one stand-in made from Debian's packages (test/support/stand-in-image.ts).
 */
interface RealProject extends PublishedProject {
  layout: string;
  /** The images init must write, in hook order. */
  images: string[];
  /** What the log shows when the suite passed (a regular expression, multiline). */
  passes: string;
  /** An edit a maintainer would make first, with why; the test asserts what it replaces. */
  adjust?: { replace: string; with: string; why: string };
}

const PROJECTS: RealProject[] = JSON.parse(
  readFileSync(new URL("../fixtures/real-projects.json", import.meta.url), "utf8"),
);
const DOWNLOADS = "/var/cache/kozmic-test/real-projects";
const space = standInWorkspace("kozmic-real-");

describe(
  "kozmic init + kozmic run pass real projects' own test suites",
  { concurrency: STAND_IN_CONCURRENCY },
  () => {
    const standIn = ensureStandInImage();

    for (const project of PROJECTS) {
      it(`${project.name} (${project.registry}: ${project.layout})`, async () => {
        const dir = space.track(
          await unpackPublishedSource(project, DOWNLOADS, join(space.work, project.name)),
        );
        const env = space.env();
        const init = await runKozmic(["init", dir], { env });
        assert.equal(init.code, 0, init.stdout + init.stderr);

        const file = join(dir, ".github/kozmic.yml");
        let text = readFileSync(file, "utf8");
        const hooks = parseConfig(text).hooks;
        assert.deepEqual(
          hooks.map((h) => h.image),
          project.images,
          `init chose other images:\n${text}`,
        );
        if (project.adjust) {
          assert.ok(text.includes(project.adjust.replace), `${project.adjust.why}:\n${text}`);
          text = text.replace(project.adjust.replace, project.adjust.with);
        }
        text = onStandIn(text, project.images);
        writeFileSync(file, text);

        const run = await runKozmic(["run", dir], { env });
        const output = run.stdout + run.stderr;
        assert.equal(run.code, 0, `${text}\n${output.slice(-6000)}`);
        assert.match(output, new RegExp(project.passes, "m"), output.slice(-4000));
        for (const hook of hooks)
          assert.match(output, new RegExp(`^${hook.name}: success in`, "m"));
        assert.ok(standIn);
      });
    }
  },
);
