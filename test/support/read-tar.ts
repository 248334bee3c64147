import { extract, type Pack } from "tar-stream";

export interface TarEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  linkname?: string;
  body: string;
}

/** Every entry of a tar stream, in order, with its body as text. */
export async function readTar(tar: Pack): Promise<TarEntry[]> {
  const ex = extract();
  const seen: TarEntry[] = [];
  ex.on("entry", (h, s, next) => {
    const chunks: Buffer[] = [];
    s.on("data", (c: unknown) => {
      chunks.push(c as Buffer);
    });
    s.on("end", () => {
      seen.push({
        name: h.name,
        type: h.type ?? "file",
        mode: h.mode ?? 0,
        uid: h.uid ?? -1,
        linkname: h.linkname ?? undefined,
        body: Buffer.concat(chunks).toString(),
      });
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on("finish", resolve);
    ex.on("error", reject);
    tar.on("error", reject);
    tar.pipe(ex);
  });
  return seen;
}
