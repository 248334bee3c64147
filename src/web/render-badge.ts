import { markup } from "./html.js";

export type BadgeState =
  "passing" | "failing" | "running" | "queued" | "cancelled" | "timed out" | "error" | "unknown";

const COLORS: Record<BadgeState, string> = {
  passing: "#1a7f37",
  failing: "#cf222e",
  running: "#9a6700",
  queued: "#6e7781",
  cancelled: "#6e7781",
  "timed out": "#cf222e",
  error: "#bc4c00",
  unknown: "#6e7781",
};

// Verdana 11px averages about 7 px per character; enough for a badge to fit its words.
const width = (text: string) => Math.round(text.length * 7 + 12);

/** A flat status badge: `label | state`, as an accessible SVG image. */
export function renderBadge(label: string, state: BadgeState): string {
  const lw = width(label);
  const sw = width(state);
  const total = lw + sw;
  return markup`<svg xmlns="http://www.w3.org/2000/svg" width="${total}" height="20" role="img" aria-label="${label}: ${state}"><title>${label}: ${state}</title><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${sw}" height="20" fill="${COLORS[state]}"/><g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11"><text x="${lw / 2}" y="14">${label}</text><text x="${lw + sw / 2}" y="14">${state}</text></g></svg>`.toString();
}
