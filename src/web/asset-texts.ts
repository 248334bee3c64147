import { readFileSync } from "node:fs";

/**
 * The texts of the files in ./assets, read once at load. The Lambda bundle reads nothing
 * from disk: scripts/bundle-lambda.ts puts in this module's place one that exports the same
 * ASSET_TEXTS with the texts inlined.
 */
export const ASSET_TEXTS = {
  "kozmic.css": readAsset("kozmic.css"),
  "follow.js": readAsset("follow.js"),
  "log-page.js": readAsset("log-page.js"),
  "log-tools.js": readAsset("log-tools.js"),
  "rerun-wait.js": readAsset("rerun-wait.js"),
  "favicon.svg": readAsset("favicon.svg"),
};

function readAsset(name: string): string {
  return readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8");
}
