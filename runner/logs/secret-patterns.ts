/**
 * The strings to mask for a secret's value: the value, each long enough line of a multi-line
 * value, its URL encodings, and its base64 as it appears at each of the three alignments
 * inside a longer base64 text (`echo "$TOKEN" | base64`, a basic-auth header), trimmed to
 * the characters that depend on the value alone.
 */
export function secretPatterns(value: string, minLength: number): string[] {
  const forms = new Set<string>([value]);
  for (const line of value.split(/\r?\n/)) forms.add(line);
  const urlEncoded = encodeURIComponent(value);
  forms.add(urlEncoded);
  forms.add(urlEncoded.replace(/%20/g, "+"));
  const bytes = Buffer.from(value, "utf8");
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
    // Character i carries bits [6i, 6i + 6): keep those wholly inside the value's bits.
    const first = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + bytes.length) * 8) / 6);
    forms.add(encoded.slice(first, end));
    // The unwrapped whole form too, padding included, for a value encoded by itself.
    if (offset === 0) forms.add(encoded);
  }
  // Trimmed: a form never starts or ends with white space, so the end of a line is never
  // held back, and what is masked is the value's content however it is padded.
  return [...new Set([...forms].map((form) => form.trim()))].filter(
    (form) => form.length >= minLength,
  );
}
