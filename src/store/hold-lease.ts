import type { Store } from "./port.js";

/** A lease taken with Store.acquireLease, renewed until released. */
export interface HeldLease {
  /** Stops the renewals and gives the lease up; once, whoever calls it again. */
  release(): Promise<void>;
}

/**
 * Keeps renewing a lease `owner` has just acquired, a third of the way through each term, so
 * that it lapses only when its holder is gone. A failed renewal or release is passed to
 * `onError` (the next renewal may still land; an unreleased lease lapses).
 */
export function holdLease(
  store: Pick<Store, "acquireLease" | "releaseLease">,
  key: string,
  owner: string,
  leaseMs: number,
  options: {
    onError?: (what: "renew" | "release", error: Error) => void;
    /** Epoch milliseconds, as the lease was acquired with. */
    now?: () => number;
  } = {},
): HeldLease {
  const { onError = () => {}, now = Date.now } = options;
  const timer = setInterval(() => {
    store.acquireLease(key, owner, leaseMs, now()).catch((error: unknown) => {
      onError("renew", error as Error);
    });
  }, leaseMs / 3);
  timer.unref();
  let released: Promise<void> | undefined;
  return {
    release: () =>
      (released ??= (async () => {
        clearInterval(timer);
        await store.releaseLease(key, owner).catch((error: unknown) => {
          onError("release", error as Error);
        });
      })()),
  };
}
