import type { Queue } from "../queue/port.js";
import type { Store } from "../store/port.js";
import type { WorkInFlight } from "./work-in-flight.js";

/** What the webhook handlers need besides the event: the adapters, the log pages' base URL, ids and time. */
export interface AppDeps {
  queue: Queue;
  store: Store;
  /** Base URL of the log pages, without a trailing slash; a job's page is `${publicUrl}/jobs/<id>`. */
  publicUrl: string;
  newId: () => string;
  /** Epoch milliseconds. */
  now: () => number;
  /** Counts the handlers running, for a server that must wait for them when it stops. */
  inFlight?: WorkInFlight;
}

export function jobUrl(publicUrl: string, jobId: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/jobs/${encodeURIComponent(jobId)}`;
}
