import { readFileSync } from "node:fs";

const ASSETS: Record<string, { type: string; body: string }> = {
  "/assets/kozmic.css": {
    type: "text/css; charset=utf-8",
    body: readFileSync(new URL("./assets/kozmic.css", import.meta.url), "utf8"),
  },
  "/assets/follow.js": {
    type: "text/javascript; charset=utf-8",
    body: readFileSync(new URL("./assets/follow.js", import.meta.url), "utf8"),
  },
};

/** The stylesheet and the follow script: files, so that the pages' CSP allows no inline code. */
export function findAsset(path: string): { type: string; body: string } | undefined {
  return Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
}
