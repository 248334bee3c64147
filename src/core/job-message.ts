import { z } from "zod";
import { hookSchema } from "./config/schema.js";

export const trustScopeSchema = z
  .enum(["trusted", "untrusted"])
  .describe("`untrusted` for pull requests from forks: separate cache scope, no secrets.");
export type TrustScope = z.output<typeof trustScopeSchema>;

/**
 * The queue message that asks a runner to run one job. It carries the hook as planned at
 * the commit, so the runner needs no second read of `.github/kozmic.yml`, and never a token.
 */
export const jobMessageSchema = z.strictObject({
  version: z.literal(1),
  jobId: z.string().min(1),
  buildId: z.string().min(1),
  installationId: z.number().int().positive(),
  repository: z.strictObject({
    id: z.number().int().positive(),
    fullName: z.string().regex(/^[^/\s]+\/[^/\s]+$/),
    cloneUrl: z.url(),
    private: z.boolean(),
  }),
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  /** `refs/heads/main` for a push, `refs/pull/7/head` for a pull request. */
  ref: z.string().min(1),
  event: z.enum(["push", "pull_request", "rerun"]),
  pullRequest: z.number().int().positive().optional(),
  trust: trustScopeSchema,
  checkRunId: z.number().int().positive().optional(),
  /** The hook as input (durations and sizes as written), validated again by the runner. */
  hook: z.unknown(),
});
export type JobMessage = z.output<typeof jobMessageSchema>;

/** Parses the hook carried by a message into its validated form. */
export function parseMessageHook(message: JobMessage) {
  return hookSchema.parse(message.hook);
}
