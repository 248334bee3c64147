/** A document the reader refuses, with why in words a log line can carry. */
export class XmlError extends Error {
  override name = "XmlError";
}

/** What a document holds, in order, as the reader meets it. */
export interface XmlHandler {
  open(name: string, attributes: Readonly<Record<string, string>>): void;
  close(name: string): void;
  /** Character data with its references decoded, CDATA included; may come in pieces. */
  text(text: string): void;
}

/** Deeper nesting is refused: no test report comes near it. */
const MAX_DEPTH = 256;
const NAME = /[A-Za-z_:][-\w.:]*/y;
const ATTRIBUTE = /\s*([A-Za-z_:][-\w.:]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;
const PREDEFINED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/**
 * Reads XML as test tools write it: elements, attributes, text, CDATA, comments and
 * processing instructions. It knows only XML's five predefined entities and character
 * references: a document type declaration is refused, so no entity is ever expanded (no
 * "billion laughs") and nothing outside the document is read (no external entity).
 */
export function readXml(xml: string, handler: XmlHandler): void {
  const stack: string[] = [];
  let rooted = false;
  let at = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (at < xml.length) {
    const lt = xml.indexOf("<", at);
    const end = lt === -1 ? xml.length : lt;
    if (end > at && stack.length > 0) handler.text(decode(xml.slice(at, end)));
    if (lt === -1) break;
    if (xml.startsWith("<?", lt)) at = after(xml, "?>", lt, "a processing instruction");
    else if (xml.startsWith("<!--", lt)) at = after(xml, "-->", lt, "a comment");
    else if (xml.startsWith("<![CDATA[", lt)) {
      const close = xml.indexOf("]]>", lt);
      if (close === -1) throw new XmlError(`a CDATA section at ${where(xml, lt)} never ends`);
      if (stack.length > 0) handler.text(xml.slice(lt + 9, close));
      at = close + 3;
    } else if (xml.startsWith("<!", lt)) {
      throw new XmlError(
        `it declares a document type (${where(xml, lt)}); test reports have none, and its entities are never expanded`,
      );
    } else if (xml.startsWith("</", lt)) {
      const name = nameAt(xml, lt + 2);
      const gt = xml.indexOf(">", lt);
      if (gt === -1 || xml.slice(lt + 2 + name.length, gt).trim() !== "")
        throw new XmlError(`a closing tag at ${where(xml, lt)} is malformed`);
      const open = stack.pop();
      if (open !== name)
        throw new XmlError(
          `</${name}> at ${where(xml, lt)} closes ${open ? `<${open}>` : "nothing"}`,
        );
      handler.close(name);
      at = gt + 1;
    } else {
      if (rooted && stack.length === 0)
        throw new XmlError(`a second root element at ${where(xml, lt)}`);
      const name = nameAt(xml, lt + 1);
      const attributes: Record<string, string> = {};
      let pos = lt + 1 + name.length;
      for (;;) {
        ATTRIBUTE.lastIndex = pos;
        const m = ATTRIBUTE.exec(xml);
        if (!m) break;
        if (Object.hasOwn(attributes, m[1]!))
          throw new XmlError(`<${name}> at ${where(xml, lt)} repeats the attribute ${m[1]}`);
        attributes[m[1]!] = decode(m[2] ?? m[3]!);
        pos = ATTRIBUTE.lastIndex;
      }
      while (/\s/.test(xml[pos] ?? "")) pos++;
      const empty = xml.startsWith("/>", pos);
      if (!empty && xml[pos] !== ">")
        throw new XmlError(`the tag <${name}> at ${where(xml, lt)} is malformed`);
      rooted = true;
      handler.open(name, attributes);
      if (empty) handler.close(name);
      else if (stack.push(name) > MAX_DEPTH)
        throw new XmlError(`elements nest deeper than ${MAX_DEPTH}`);
      at = pos + (empty ? 2 : 1);
    }
  }
  if (stack.length > 0) throw new XmlError(`it ends inside <${stack.at(-1)}> (cut short?)`);
  if (!rooted) throw new XmlError("it holds no XML element");
}

function after(xml: string, close: string, from: number, what: string): number {
  const end = xml.indexOf(close, from);
  if (end === -1) throw new XmlError(`${what} at ${where(xml, from)} never ends`);
  return end + close.length;
}

function nameAt(xml: string, pos: number): string {
  NAME.lastIndex = pos;
  const m = NAME.exec(xml);
  if (!m) throw new XmlError(`a "<" at ${where(xml, pos - 1)} starts no tag`);
  return m[0];
}

/** `line L` of a position, for messages. */
function where(xml: string, pos: number): string {
  let line = 1;
  for (let i = xml.indexOf("\n"); i !== -1 && i < pos; i = xml.indexOf("\n", i + 1)) line++;
  return `line ${line}`;
}

function decode(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&([^;&\s]{0,12});/g, (_, ref: string) => {
    if (ref.startsWith("#")) {
      const code = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!/^#(x[0-9a-fA-F]+|[0-9]+)$/.test(ref) || !(code > 0 && code <= 0x10ffff))
        throw new XmlError(`&${ref}; is not a character`);
      return String.fromCodePoint(code);
    }
    const value = PREDEFINED[ref];
    if (value === undefined) throw new XmlError(`&${ref}; is an entity XML does not define`);
    return value;
  });
}
