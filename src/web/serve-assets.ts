import { ASSET_TEXTS } from "./asset-texts.js";

const TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  svg: "image/svg+xml",
};

/** The stylesheet, the log page's scripts and the icon: files, so that the pages' CSP allows no inline code. */
export function findAsset(path: string): { type: string; body: string } | undefined {
  const name = path.slice("/assets/".length);
  if (!path.startsWith("/assets/") || !Object.hasOwn(ASSET_TEXTS, name)) return undefined;
  return {
    type: TYPES[name.split(".").pop()!]!,
    body: ASSET_TEXTS[name]!,
  };
}
