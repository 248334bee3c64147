import { InvalidMessageError } from "../core/errors.js";
import { jobMessageSchema, type JobMessage } from "../core/job-message.js";

/** Shared by the adapters: a body is JSON matching the job message schema, or it is dead. */
export function parseMessageBody(
  body: string,
): { ok: true; message: JobMessage } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { ok: false, error: `not JSON (${(error as Error).message})` };
  }
  const result = jobMessageSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    return { ok: false, error: `not a job message (${issues.join("; ")})` };
  }
  return { ok: true, message: result.data };
}

/** Shared by the adapters: only a valid job message is ever sent. */
export function serializeMessage(message: JobMessage): string {
  const result = jobMessageSchema.safeParse(message);
  if (!result.success) {
    throw new InvalidMessageError(
      `refusing to send an invalid job message: ${result.error.message}`,
    );
  }
  return JSON.stringify(result.data);
}
