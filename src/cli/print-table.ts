/** A time as the CLI's tables show it, to the second, UTC: "2026-01-02 03:04:05"; "-" for none. */
export function when(ms: number | undefined): string {
  return ms === undefined ? "-" : new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/** Rows as columns two spaces apart (the first row their heads), each as wide as its widest cell. */
export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows)
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
}
