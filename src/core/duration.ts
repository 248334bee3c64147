const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/**
 * Parses a duration such as `90s`, `15m`, `1h30m` or a bare number of seconds.
 * Returns seconds, or undefined when the text is not a duration.
 */
export function parseDurationSeconds(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value > 0 ? value : undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) > 0 ? Number(text) : undefined;
  const parts = [...text.matchAll(/(\d+)([smh])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
  const total = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS[p[2]!]!, 0);
  return total > 0 ? total : undefined;
}

const BYTE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Parses a memory size such as `512m`, `2g`, `2GiB` or a bare number of bytes. */
export function parseBytes(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value > 0 ? value : undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([bkmg])?(?:i?b)?$/i.exec(value.trim());
  if (!match) return undefined;
  const bytes = Math.round(Number(match[1]) * BYTE_UNITS[(match[2] ?? "b").toLowerCase()]!);
  return bytes > 0 ? bytes : undefined;
}

/** `2g`, `512m`, `1.5g`: a memory size as a person writes it, for messages. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ["g", 1024 ** 3],
    ["m", 1024 ** 2],
    ["k", 1024],
  ] as const) {
    if (bytes >= size)
      return `${Number((bytes / size).toFixed(bytes % size === 0 ? 0 : 1))}${unit}`;
  }
  return `${bytes}b`;
}
