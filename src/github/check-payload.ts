import * as z from "zod";

const sha = z.string().regex(/^[0-9a-f]{40}$/, "expected a 40-character commit sha");
const repository = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1),
  full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, "expected owner/name"),
  clone_url: z.string().min(1),
  private: z.boolean(),
  owner: z.object({ login: z.string().min(1) }).nullable(),
});
const installation = z.object({ id: z.number().int().positive() });
const shortRepository = z.object({
  id: z.number().int().positive(),
  full_name: z.string().min(1),
  private: z.boolean(),
});

/** The fields each handler reads, so a malformed delivery is refused before any work. */
const SCHEMAS: Record<string, z.ZodType> = {
  push: z.object({
    ref: z.string().min(1),
    after: sha,
    deleted: z.boolean(),
    head_commit: z.object({ message: z.string() }).nullable(),
    repository,
    installation,
  }),
  pull_request: z.object({
    pull_request: z.object({
      number: z.number().int().positive(),
      title: z.string(),
      head: z.object({
        sha,
        ref: z.string().min(1),
        repo: z.object({ id: z.number(), full_name: z.string() }).nullable(),
      }),
      base: z.object({ ref: z.string().min(1) }),
    }),
    repository,
    installation,
  }),
  check_run: z.object({
    check_run: z.object({ external_id: z.string().nullable(), head_sha: sha }),
    repository,
    installation,
  }),
  check_suite: z.object({
    check_suite: z.object({ head_sha: sha, head_branch: z.string().nullable() }),
    repository,
    installation,
  }),
  installation: z.object({
    installation,
    repositories: z.array(shortRepository).optional(),
  }),
  installation_repositories: z.object({
    installation,
    repositories_added: z.array(shortRepository),
    repositories_removed: z.array(shortRepository),
  }),
};

/** A delivery whose payload lacks what its event must carry; answered 400. */
export class MalformedPayloadError extends Error {
  readonly status = 400;
  override name = "MalformedPayloadError";
}

/** Throws MalformedPayloadError naming every missing or mistyped field the handlers need. */
export function checkPayload(event: string, payload: unknown): void {
  const schema = SCHEMAS[event];
  if (!schema) return;
  const result = schema.safeParse(payload);
  if (result.success) return;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join(".") || "(payload)"}: ${issue.message}`,
  );
  throw new MalformedPayloadError(`the ${event} payload is malformed: ${problems.join("; ")}`);
}
