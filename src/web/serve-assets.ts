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
};

/** The stylesheet and the follow script: files, so that the pages' CSP allows no inline code. */
export function findAsset(path: string): { type: string; body: string } | undefined {
  return Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
}
