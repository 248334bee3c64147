import { Readable } from "node:stream";
import { isArtifactKey } from "../store/artifact-port.js";
import { findReadableJob, NotFound, type Page } from "./web-request.js";

/**
 * GET /jobs/<id>/artifacts/<name>: one file the job kept, to whoever may read its log (a
 * private repository's only to a signed-in reader; others get the 404 of an unknown job).
 * Always a download of opaque bytes: the browser neither shows nor sniffs it.
 */
export const serveArtifact: Page<[jobId: string, name: string]> = async (web, r, jobId, name) => {
  const store = web.deps.artifacts;
  if (!store || !isArtifactKey(jobId, name)) throw new NotFound();
  const { job } = await findReadableJob(web, r, jobId);
  const file = await store.get(job.id, name);
  if (!file) throw new NotFound();
  const base = name.split("/").pop()!;
  const headers = {
    "content-type": "application/octet-stream",
    "content-length": String(file.size),
    "content-disposition": `attachment; filename="${base.replace(/[^\x20-\x7e]|["\\]/g, "_")}"; filename*=UTF-8''${encodeURIComponent(base)}`,
    "x-content-type-options": "nosniff",
  };
  if (r.c.req.method === "HEAD") {
    file.body.destroy();
    return new Response(null, { status: 200, headers });
  }
  return new Response(Readable.toWeb(file.body) as ReadableStream, { status: 200, headers });
};

/** The artifact's name from the request's path: the parts after `/artifacts/`, decoded. */
export function artifactName(pathname: string): string {
  const at = pathname.indexOf("/artifacts/");
  return pathname
    .slice(at + "/artifacts/".length)
    .split("/")
    .map((part) => decodeURIComponent(part))
    .join("/");
}
