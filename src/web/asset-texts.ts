import { readFileSync } from "node:fs";

/**
 * The texts of the files in ./assets, read once at load. The Lambda bundle reads nothing
 * from disk: scripts/bundle-lambda.ts puts in this module's place one that exports the same
 * ASSET_TEXTS with the texts inlined.
 */
export const ASSET_TEXTS: Record<string, string> = Object.fromEntries(
  ["kozmic.css", "follow.js", "log-page.js", "log-tools.js", "rerun-wait.js", "favicon.svg"].map(
    (name) => [name, readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8")],
  ),
);
