import { ASSET_TEXTS } from "./asset-texts.js";

const ASSETS: Record<string, { type: string; body: string }> = {
  "/assets/kozmic.css": {
    type: "text/css; charset=utf-8",
    body: ASSET_TEXTS["kozmic.css"],
  },
  "/assets/follow.js": {
    type: "text/javascript; charset=utf-8",
    body: ASSET_TEXTS["follow.js"],
  },
  "/assets/log-page.js": {
    type: "text/javascript; charset=utf-8",
    body: ASSET_TEXTS["log-page.js"],
  },
  "/assets/log-tools.js": {
    type: "text/javascript; charset=utf-8",
    body: ASSET_TEXTS["log-tools.js"],
  },
  "/assets/rerun-wait.js": {
    type: "text/javascript; charset=utf-8",
    body: ASSET_TEXTS["rerun-wait.js"],
  },
  "/assets/favicon.svg": {
    type: "image/svg+xml",
    body: ASSET_TEXTS["favicon.svg"],
  },
};

/** The stylesheet, the log page's scripts and the icon: files, so that the pages' CSP allows no inline code. */
export function findAsset(path: string): { type: string; body: string } | undefined {
  return Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
}
