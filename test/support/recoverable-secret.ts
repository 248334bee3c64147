/**
 * Whether `value`, or any 8 characters of it, can be read back from what a log shows: as
 * text, or decoded from any base64 left in it (lines joined, at each of four starts), the
 * masked pieces counting as breaks.
 */
export function recoverable(shown: string, value: string, mask = "***"): boolean {
  const text = shown.split(mask).join("\n");
  const decoded: string[] = [text];
  for (const run of text.match(/[A-Za-z0-9+/=\r\n]{4,}/g) ?? []) {
    const b64 = run.replace(/\s/g, "");
    for (let skip = 0; skip < 4; skip++) {
      const bytes = Buffer.from(b64.slice(skip), "base64");
      decoded.push(bytes.toString("latin1"), bytes.toString("utf8"));
    }
  }
  for (let i = 0; i + 8 <= value.length; i++) {
    const piece = value.slice(i, i + 8);
    if (decoded.some((d) => d.includes(piece))) return true;
  }
  return false;
}
