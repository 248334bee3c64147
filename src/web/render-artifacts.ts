import type { ArtifactEntry } from "../store/artifact-port.js";
import { join, markup, type Html } from "./html.js";

/** A file's size as the list shows it: bytes, KB, MB or GB (powers of 1024). */
export function describeSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** An artifact's download address: each part of its name encoded, the slashes kept. */
export function artifactHref(jobId: string, name: string): string {
  return `/jobs/${encodeURIComponent(jobId)}/artifacts/${name.split("/").map(encodeURIComponent).join("/")}`;
}

/** The job page's list of kept files, each a download link with its size; nothing for none. */
export function renderArtifacts(jobId: string, artifacts: readonly ArtifactEntry[]): Html | "" {
  if (artifacts.length === 0) return "";
  const items = artifacts.map(
    (a) =>
      markup`<li><a href="${artifactHref(jobId, a.name)}" download>${a.name}</a> <span class="size">${describeSize(a.size)}</span></li>`,
  );
  return markup`<section aria-labelledby="artifacts-title">
<h2 id="artifacts-title">Artifacts</h2>
<ul id="artifacts" class="artifacts">${join(items, "")}</ul>
</section>`;
}
