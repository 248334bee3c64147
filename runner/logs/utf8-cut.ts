/**
 * Splits `text` so the head is at most `maxBytes` of UTF-8 and ends on a character
 * boundary; the tail is the rest.
 */
export function cutUtf8(text: string, maxBytes: number): [head: string, tail: string] {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return [text, ""];
  const bytes = Buffer.from(text, "utf8");
  let end = Math.max(0, maxBytes);
  // Back off continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1;
  return [bytes.subarray(0, end).toString("utf8"), bytes.subarray(end).toString("utf8")];
}

/** `50 MB` for whole mebibytes, else `12 KB` or `300 bytes`: for messages to users. */
export function formatSize(bytes: number): string {
  const mb = 1024 * 1024;
  if (bytes >= mb && bytes % mb === 0) return `${bytes / mb} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}
