import type { Queue } from "../queue/port.js";
import type { Store } from "../store/port.js";

/** What the webhook handlers need besides the event: the adapters, the log pages' base URL, ids and time. */
export interface AppDeps {
  queue: Queue;
  store: Store;
  /** Base URL of the log pages, without a trailing slash; a job's page is `${publicUrl}/jobs/<id>`. */
  publicUrl: string;
  newId: () => string;
  /** Epoch milliseconds. */
  now: () => number;
}

export function jobUrl(publicUrl: string, jobId: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/jobs/${encodeURIComponent(jobId)}`;
}
