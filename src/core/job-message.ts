import * as z from "zod";
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
  event: z.enum(["push", "pull_request", "rerun", "manual", "schedule"]),
  pullRequest: z.number().int().positive().optional(),
  trust: trustScopeSchema,
  headRepositoryId: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Untrusted jobs: the id of the fork the pull request comes from (see cacheFork)."),
  checkRunId: z.number().int().positive().optional(),
  matrix: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(100))
    .optional()
    .describe(
      "A matrix job's combination (its values are already in the hook's image and env): " +
        "part of its install cache key.",
    ),
  /**
   * The hook in the config's input form (durations and sizes as numbers), checked against
   * the same schema as `.github/kozmic.yml` when sent and when received: a bad one makes
   * the whole message malformed (dead-lettered with one log line), never a job.
   */
  hook: z.unknown().superRefine((hook, ctx) => {
    const result = hookSchema.safeParse(hook);
    if (result.success) return;
    for (const issue of result.error.issues) {
      ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    }
  }),
});
export type JobMessage = z.output<typeof jobMessageSchema>;

/** The hook of a message (which the schema has checked) in its parsed form, defaults filled. */
export function parseMessageHook(message: JobMessage) {
  return hookSchema.parse(message.hook);
}

/**
 * Whose untrusted installs a job shares: its fork's (`repo-<head repository id>`), else its
 * pull request's (the fork is gone), else its commit's. Undefined for trusted jobs, which
 * share the repository's own cache.
 */
export function cacheFork(
  message: Pick<JobMessage, "trust" | "headRepositoryId" | "pullRequest" | "sha">,
): string | undefined {
  if (message.trust === "trusted") return undefined;
  if (message.headRepositoryId !== undefined) return `repo-${message.headRepositoryId}`;
  if (message.pullRequest !== undefined) return `pr-${message.pullRequest}`;
  return `commit-${message.sha}`;
}
