import type { z } from "zod";
import { InvalidMessageError } from "../core/errors.js";
import { jobMessageSchema, type JobMessage } from "../core/job-message.js";
import { planMessageSchema, type PlanMessage } from "../core/plan-message.js";

/** What a queue carries: the schema every body is checked against on send and receive. */
export interface MessageKind<M> {
  /** In words, for errors and dead-letter log lines: "job message", "planning message". */
  name: string;
  /**
   * The newest `version` this code reads. A body of a later version (a newer Kozmic sent
   * it, as during a rollback) is dead-lettered saying so; when the shape changes, the schema
   * keeps accepting the previous version, which messages in flight at an upgrade carry.
   */
  version: number;
  schema: z.ZodType<M>;
}

export const JOB_MESSAGES: MessageKind<JobMessage> = {
  name: "job message",
  version: 1,
  schema: jobMessageSchema as z.ZodType<JobMessage>,
};

export const PLAN_MESSAGES: MessageKind<PlanMessage> = {
  name: "planning message",
  version: 1,
  schema: planMessageSchema as z.ZodType<PlanMessage>,
};

/** Shared by the adapters: a body is JSON matching the kind's schema, or it is dead. */
export function parseMessageBody<M>(
  body: string,
  kind: MessageKind<M>,
): { ok: true; message: M } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { ok: false, error: `not JSON (${(error as Error).message})` };
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === "number" && version > kind.version) {
    return {
      ok: false,
      error: `a ${kind.name} of version ${version}, from a newer Kozmic (this one reads up to version ${kind.version})`,
    };
  }
  const result = kind.schema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    return { ok: false, error: `not a ${kind.name} (${issues.join("; ")})` };
  }
  return { ok: true, message: result.data };
}

/** Shared by the adapters: only a valid message of the queue's kind is ever sent. */
export function serializeMessage<M>(message: M, kind: MessageKind<M>): string {
  const result = kind.schema.safeParse(message);
  if (!result.success) {
    throw new InvalidMessageError(
      `refusing to send an invalid ${kind.name}: ${result.error.message}`,
    );
  }
  return JSON.stringify(result.data);
}
