import { canonicalText } from "./canonical-text.js";

const percent = (c: string) => "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0");

/** The ways tools percent-encode a value: each spelling a URL or form body may carry. */
function urlForms(value: string): string[] {
  const component = encodeURIComponent(value);
  const bases = [component, component.replace(/[!'()*]/g, percent)]; // RFC 3986 reserves these
  try {
    bases.push(encodeURI(value));
  } catch {
    // A lone surrogate has no URL form.
  }
  const forms = new Set<string>();
  for (const base of bases) {
    for (const slash of [base, base.replace(/%2F/g, "/")]) {
      for (const space of [slash, slash.replace(/%20/g, "+")]) {
        forms.add(space);
        forms.add(space.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()));
      }
    }
  }
  return [...forms];
}

/** The value inside a JSON string: as JSON.stringify writes it, with `\/`, and ASCII-only. */
function jsonForms(value: string): string[] {
  const plain = JSON.stringify(value).slice(1, -1);
  const ascii = plain.replace(
    /[\u007f-\uffff]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
  return [plain, plain.replace(/\//g, "\\/"), ascii, ascii.replace(/\//g, "\\/")];
}

/**
 * Base64 of the value as it appears at each of the three alignments inside a longer base64
 * text (`echo "$TOKEN" | base64`, a basic-auth header), trimmed to the characters that
 * depend on the value alone; the whole padded form too; and the URL-safe alphabet's.
 */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const forms: string[] = [];
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
    // Character i carries bits [6i, 6i + 6): keep those wholly inside the value's bits.
    const first = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + bytes.length) * 8) / 6);
    forms.push(encoded.slice(first, end));
    if (offset === 0) forms.push(encoded);
  }
  return [...forms, ...forms.map((form) => form.replace(/\+/g, "-").replace(/\//g, "_"))];
}

/**
 * The strings to mask for a secret's value, as canonical text (canonical-text.ts): the
 * value, each long enough line of a multi-line value, its URL encodings (upper- and
 * lowercase `%xx`, RFC 3986 and `encodeURI`, `/` kept or not, `+` for space), its forms
 * inside a JSON string, and its base64.
 */
export function secretPatterns(value: string, minLength: number): string[] {
  const forms = new Set<string>([value, ...value.split(/\r?\n/)]);
  for (const form of [...forms]) for (const url of urlForms(form)) forms.add(url);
  for (const json of jsonForms(value)) forms.add(json);
  for (const b64 of base64Forms(value)) forms.add(b64);
  // Trimmed: a form never starts or ends with white space, so the end of a line is never
  // held back, and what is masked is the value's content however it is padded.
  const canonical = [...forms].map((form) => canonicalText(form.trim()).trim());
  return [...new Set(canonical)].filter((form) => form.length >= minLength);
}
