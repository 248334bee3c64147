import { InfrastructureError } from "../../src/core/errors.js";
import type { Queue } from "../../src/queue/port.js";
import type { Store } from "../../src/store/port.js";

/**
 * One injected fault: the `nth` call of `op` (e.g. `store.transitionJob`) fails, either
 * before it happens (`error`) or after it took effect (`after`: a timeout whose write
 * landed anyway).
 */
export interface Fault {
  op: string;
  nth: number;
  mode: "error" | "after";
}

/** Counts the calls through the wrapped adapters and fails the one the fault names. */
export class FaultPlan {
  readonly calls: string[] = [];
  private readonly counts = new Map<string, number>();
  fired = false;
  /** Index in `calls` of the injected fault, once it fired. */
  firedAt?: number;
  /** Index in `calls` of the first store write that ended a job (completed or errored). */
  endRecordedAt?: number;

  constructor(readonly fault?: Fault) {}

  async around<T>(op: string, call: () => Promise<T>, args: unknown[] = []): Promise<T> {
    const n = (this.counts.get(op) ?? 0) + 1;
    this.counts.set(op, n);
    const index = this.calls.push(`${op}#${n}`) - 1;
    const fault = this.fault;
    const tookEffect = (result: T) => {
      const status = (args[2] as { status?: string } | undefined)?.status;
      const ends = op === "store.transitionJob" && (status === "completed" || status === "errored");
      if (ends) this.endRecordedAt ??= index;
      return result;
    };
    if (!fault || this.fired || fault.op !== op || fault.nth !== n) return tookEffect(await call());
    this.fired = true;
    this.firedAt = index;
    if (fault.mode === "error") throw new InfrastructureError(`injected fault: ${op} #${n} failed`);
    tookEffect(await call());
    throw new InfrastructureError(`injected fault: ${op} #${n} timed out after it took effect`);
  }
}

/** `target` with every method but `close` going through `plan` under `<prefix>.<method>`. */
function wrap<T extends object>(target: T, prefix: string, plan: FaultPlan): T {
  return new Proxy(target, {
    get(object, name, receiver) {
      const value = Reflect.get(object, name, receiver) as unknown;
      if (typeof value !== "function" || name === "close" || typeof name !== "string") {
        return value;
      }
      return (...args: unknown[]) =>
        plan.around(
          `${prefix}.${name}`,
          () => (value as (...a: unknown[]) => Promise<unknown>).apply(object, args),
          args,
        );
    },
  });
}

export const faultyStore = (store: Store, plan: FaultPlan): Store => wrap(store, "store", plan);
export const faultyQueue = <M>(queue: Queue<M>, plan: FaultPlan): Queue<M> =>
  wrap(queue, "queue", plan);
