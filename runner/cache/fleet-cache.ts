import { setTimeout as sleep } from "node:timers/promises";
import type { TrustScope } from "../../src/core/cache-key.js";
import {
  registryImageName,
  registryTag,
  type CacheRegistry,
} from "../../src/core/cache-registry.js";
import { holdLease, type HeldLease } from "../../src/store/hold-lease.js";
import type { Store } from "../../src/store/port.js";
import type { Engine, RegistryAuth } from "../engine/port.js";
import type { RegistryCredentials } from "./registry-credentials.js";

export interface FleetCacheOptions {
  registry: CacheRegistry;
  credentials: RegistryCredentials;
  store: Pick<Store, "acquireLease" | "releaseLease" | "getCacheImage" | "recordCacheImage">;
  /** Who this runner is, in leases and in other hosts' "waiting for" lines. */
  owner: string;
  /** The runner's own lines: a push ends after its job may have. */
  log: (line: string, level?: "warn") => void;
  /** How long a lease lasts unless renewed (a third of it apart) by its live holder. */
  leaseMs?: number;
  /** How long a host waits for another's install before installing itself. */
  waitMs?: number;
  /** How often a waiting host looks again. */
  pollMs?: number;
}

/** One cached install in the fleet: its repository, scope and key. */
export interface FleetKey {
  repositoryId: string;
  scope: TrustScope;
  key: string;
}

/** The key's fleet lease, held while installing and pushing it. */
export type FleetLease = HeldLease;

export type FleetLookup =
  { outcome: "pulled"; ref: string; ms: number } | { outcome: "install"; lease?: FleetLease };

type Say = (line: string) => void;

const RETRY_PUSH_MS = 10 * 60_000;

/**
 * The fleet's install cache in a registry: on a local miss, a cached install is pulled by
 * key; when no host has pushed it yet, one host takes the key's lease in the store and
 * installs while the others wait to pull. A committed install is pushed in the background.
 * Nothing here fails a job: a registry that cannot be reached means installing here.
 */
export class FleetCache {
  private readonly pending = new Set<Promise<void>>();
  private readonly pushing = new Set<string>();
  /** When each image's last push failed: a hit tries it again only after RETRY_PUSH_MS. */
  private readonly failedAt = new Map<string, number>();
  private readonly leaseMs: number;
  private readonly waitMs: number;
  private readonly pollMs: number;

  constructor(private readonly options: FleetCacheOptions) {
    this.leaseMs = options.leaseMs ?? 60_000;
    this.waitMs = options.waitMs ?? 20 * 60_000;
    this.pollMs = options.pollMs ?? 2_000;
  }

  /** `host/repository`, for messages. */
  get name(): string {
    return registryImageName(this.options.registry);
  }

  /**
   * Looks a missed install up in the registry, in the order of `reads` (an untrusted job
   * reads the trusted install first), pulling the first found. When none is there, takes
   * `writes`' lease or waits while another host holds it: at most `waitMs`, and never past
   * the job's `deadline` (epoch ms).
   */
  async lookup(
    engine: Engine,
    reads: readonly FleetKey[],
    writes: FleetKey,
    holder: string,
    say: Say,
    signal?: AbortSignal,
    deadline = Infinity,
  ): Promise<FleetLookup> {
    const owner = `${this.options.owner} (job ${holder})`;
    let waitingSince: number | undefined;
    for (;;) {
      let auth: RegistryAuth | undefined;
      try {
        auth = await this.options.credentials.get();
        for (const read of reads) {
          const ref = `${this.name}:${registryTag(read.repositoryId, read.scope, read.key, this.options.registry.tagKey)}`;
          const started = Date.now();
          if ((await engine.pullFromRegistry(ref, auth)) === "pulled")
            return { outcome: "pulled", ref, ms: Date.now() - started };
        }
      } catch (error) {
        say(`fleet cache ${this.name}: ${this.explain(error, auth)}; installing here`);
        return { outcome: "install" };
      }
      let lease;
      try {
        lease = await this.options.store.acquireLease(writes.key, owner, this.leaseMs);
      } catch (error) {
        say(
          `fleet cache: cannot take the key's lease (${(error as Error).message}); installing here`,
        );
        return { outcome: "install" };
      }
      if (lease.acquired) {
        if (waitingSince === undefined) say(`not in the fleet cache ${this.name} either`);
        else say(`${this.name} still has no install for this key: installing here`);
        return { outcome: "install", lease: this.hold(writes.key, owner) };
      }
      const now = Date.now();
      if (waitingSince === undefined) {
        waitingSince = now;
        say(
          `${lease.owner} is installing this key for the fleet: waiting up to ` +
            `${Math.round(this.waitMs / 1000)}s to pull it from ${this.name}`,
        );
      } else if (now - waitingSince >= this.waitMs || now >= deadline) {
        say(
          `waited ${Math.round((now - waitingSince) / 1000)}s for ${lease.owner}: installing here`,
        );
        return { outcome: "install" };
      }
      await sleep(this.pollMs, undefined, signal ? { signal } : {});
    }
  }

  /**
   * Tags the committed install for the registry and pushes it in the background, then
   * records its digest and releases the lease. The job neither waits for it nor fails by it.
   */
  push(engine: Engine, imageId: string, target: FleetKey, lease: FleetLease | undefined, say: Say) {
    if (this.pushing.has(imageId)) {
      void lease?.release();
      return;
    }
    const tag = registryTag(
      target.repositoryId,
      target.scope,
      target.key,
      this.options.registry.tagKey,
    );
    const ref = `${this.name}:${tag}`;
    say(`pushing the install to the fleet cache ${ref} in the background`);
    this.pushing.add(imageId);
    const task = (async () => {
      const started = Date.now();
      let auth: RegistryAuth | undefined;
      try {
        await engine.tagImage(imageId, this.name, tag);
        auth = await this.options.credentials.get();
        const digest = await engine.pushImage(this.name, tag, auth);
        const record = await this.options.store.getCacheImage(imageId);
        if (record) await this.options.store.recordCacheImage({ ...record, digest });
        this.failedAt.delete(imageId);
        this.options.log(
          `fleet cache: pushed ${ref} (${digest}) in ${((Date.now() - started) / 1000).toFixed(1)}s`,
        );
      } catch (error) {
        this.failedAt.set(imageId, Date.now());
        this.options.log(
          `fleet cache: push of ${ref} failed: ${this.explain(error, auth)}`,
          "warn",
        );
      } finally {
        this.pushing.delete(imageId);
        await lease?.release();
      }
    })();
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  /**
   * On a local hit: pushes a trusted install the fleet does not have yet (committed before
   * KOZMIC_CACHE_REGISTRY was set, or whose push failed), so enabling the fleet cache on
   * hosts with warm caches fills the registry. Only trusted installs for trusted jobs.
   */
  async pushIfUnpushed(engine: Engine, imageId: string, target: FleetKey, say: Say) {
    if (target.scope !== "trusted" || this.pushing.has(imageId)) return;
    if (Date.now() - (this.failedAt.get(imageId) ?? -Infinity) < RETRY_PUSH_MS) return;
    const record = await this.options.store.getCacheImage(imageId).catch(() => undefined);
    if (!record || record.digest || record.scope !== "trusted" || record.key !== target.key) return;
    this.push(engine, imageId, target, undefined, say);
  }

  /** Images being pushed right now, which pruning must leave alone. */
  get busyImages(): ReadonlySet<string> {
    return this.pushing;
  }

  /** Resolves when every push started so far has ended (shutdown, tests, the benchmark). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Holds the key's lease, renewing it while the holder lives, until released. */
  private hold(key: string, owner: string): FleetLease {
    return holdLease(this.options.store, key, owner, this.leaseMs, {
      onError: (what, error) =>
        this.options.log(
          `fleet cache: cannot ${what} the lease of ${key}: ${error.message}`,
          "warn",
        ),
    });
  }

  /** The registry's refusal, with what to do when it asks for credentials it did not get. */
  private explain(error: unknown, auth: RegistryAuth | undefined): string {
    const message = (error as Error).message;
    const { host } = this.options.registry;
    if (!auth && /unauthorized|authentication required|no basic auth credentials/i.test(message))
      return (
        `${host} asks for credentials and ${this.options.credentials.source} has none: ` +
        `run \`docker login ${host}\` as the runner's user (${message})`
      );
    return message;
  }
}
