import * as z from "zod";
import { jobMessageSchema } from "./job-message.js";

const sha = z.string().regex(/^[0-9a-f]{40}$/);
const login = z.string().min(1).max(200);

/** A push or a pull request: plan the commit's hooks (one build per commit). */
const buildTask = z.strictObject({
  kind: z.literal("build"),
  event: z.enum(["push", "pull_request"]),
  sha,
  ref: z.string().min(1).max(1024),
  pullRequest: z.number().int().positive().optional(),
  headRepositoryFullName: z.string().max(300).nullable().optional(),
  /** The head repository's id; `null` when GitHub no longer knows it (deleted fork). */
  headRepositoryId: z.number().int().positive().nullable().optional(),
  trigger: z.string().min(1).max(300),
  /** Pushes: the commit the branch was at before (all zeros for a new branch), for `paths:`. */
  before: sha.or(z.literal("0".repeat(40))).optional(),
  /** Pushes: the repository's default branch, whose configuration holds its `schedule:`. */
  defaultBranch: z.string().min(1).max(255).optional(),
  /** Pull requests: the branch it merges into, for `branches:`. */
  baseRef: z.string().min(1).max(1024).optional(),
  /** More lines the jobs supersede on (`branch:feature` for a pull request from that branch). */
  alsoSupersedeLines: z.array(z.string().min(1).max(1100)).max(4).optional(),
});

/** GitHub's "Re-run" on one check run, named by its external id (Kozmic's job id). */
const rerunCheckRunTask = z.strictObject({
  kind: z.literal("rerun-check-run"),
  externalId: z.string().max(200).nullable(),
  sha,
  headBranch: z.string().max(1024).nullable(),
  actor: login,
});

/** GitHub's "Re-run all checks" on a commit. */
const rerunCommitTask = z.strictObject({
  kind: z.literal("rerun-commit"),
  sha,
  headBranch: z.string().max(1024).nullable(),
  actor: login,
});

/** The log pages' "Re-run": a build again, or one hook of it. */
const rerunBuildTask = z.strictObject({
  kind: z.literal("rerun-build"),
  buildId: z.string().min(1).max(200),
  hook: z.string().min(1).max(200).optional(),
  actor: login,
});

/** A run by hand ("Run" on the repository page, `kozmic dispatch`): a branch's head. */
const manualTask = z.strictObject({
  kind: z.literal("manual"),
  branch: z.string().min(1).max(255),
  /** Strings every job gets as environment variables. */
  inputs: z
    .record(
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
        .max(100),
      z.string().max(4096),
    )
    .refine((inputs) => Object.keys(inputs).length <= 20, "at most 20 inputs")
    .default({}),
  actor: login,
});

/** A tick of a schedule entry (`schedule:`): the branch's head, as a run by hand builds it. */
const scheduleTask = z.strictObject({
  kind: z.literal("schedule"),
  scheduleId: z.string().min(1).max(100),
  cron: z.string().min(1).max(200),
  branch: z.string().min(1).max(255),
  /** The time the tick names (epoch ms), which the build's delivery id holds. */
  tick: z.number().int().nonnegative(),
});

/** The check run's "Cancel" button or the log pages' Cancel. */
const cancelTask = z.strictObject({
  kind: z.literal("cancel"),
  jobId: z.string().min(1).max(200),
  actor: login,
});

/**
 * What the webhook endpoint hands the planner: the facts of one delivery (never the whole
 * payload, never a token). The planner does the GitHub work behind the queue, where a
 * failure is retried instead of lost.
 */
export const planMessageSchema = z.strictObject({
  version: z.literal(1),
  /** The webhook delivery (or page action) id; planning the same one twice is a no-op. */
  deliveryId: z.string().min(1).max(200),
  installationId: z.number().int().positive(),
  /** The clone URL is absent for a log-page re-run; the planner asks GitHub for it. */
  repository: jobMessageSchema.shape.repository.partial({ cloneUrl: true }),
  task: z.discriminatedUnion("kind", [
    buildTask,
    rerunCheckRunTask,
    rerunCommitTask,
    rerunBuildTask,
    cancelTask,
    manualTask,
    scheduleTask,
  ]),
});
export type PlanMessage = z.output<typeof planMessageSchema>;
