import * as z from "zod";
import { parseBytes, parseDurationSeconds } from "../duration.js";
import { checkHookImage } from "../image-ref.js";
import { checkSecretName } from "../secret-rules.js";
import { checkCron, MAX_SCHEDULES } from "../schedules.js";
import { checkTrackedPattern } from "./check-tracked-pattern.js";
import {
  matrixCombinations,
  matrixVariable,
  substituteMatrix,
  templateKeys,
  type MatrixCombination,
  type MatrixInput,
} from "./expand-matrix.js";
import { checkShebang } from "./script-command.js";

/** A refinement that reports what `check` finds wrong with the value, if anything. */
const problemOf =
  (check: (value: string) => string | undefined) => (value: string, ctx: z.RefinementCtx) => {
    const problem = check(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  };

/** A refinement that flags the first entry listed twice; `stop` skips the checks after it. */
function listedOnce(
  values: readonly string[] = [],
  ctx: z.RefinementCtx,
  at: string[] = [],
  stop = false,
) {
  const twice = values.findIndex((value, i) => values.indexOf(value) !== i);
  if (twice >= 0) {
    ctx.addIssue({
      code: "custom",
      path: [...at, twice],
      message: "listed twice",
      continue: !stop,
    });
  }
}

const script = z.string().min(1).superRefine(problemOf(checkShebang));

// The regexes only give editors a pattern; parseDurationSeconds and parseBytes decide.
const DURATION_MESSAGE = 'expected a duration such as "90s", "15m" or "1h30m"';
const SIZE_MESSAGE = 'expected a size such as "512m" or "2g"';
const duration = z
  .union(
    [
      z.string().regex(/^\s*(\d+|(\d+[smh])+)\s*$/, DURATION_MESSAGE),
      z.number().positive(DURATION_MESSAGE),
    ],
    { error: DURATION_MESSAGE },
  )
  .refine((v) => parseDurationSeconds(v) !== undefined, { message: DURATION_MESSAGE })
  .transform((v) => parseDurationSeconds(v)!);

const memory = z
  .union(
    [
      z.string().regex(/^\s*\d+(\.\d+)?\s*[bkmgBKMG]?([iI]?[bB])?\s*$/, SIZE_MESSAGE),
      z.number().int(SIZE_MESSAGE).positive(SIZE_MESSAGE),
    ],
    { error: SIZE_MESSAGE },
  )
  .refine((v) => parseBytes(v) !== undefined, { message: SIZE_MESSAGE })
  .transform((v) => parseBytes(v)!);

/** A plain image reference, or one with `${{ matrix.KEY }}` templates in it. */
const TEMPLATE_PART = String.raw`\$\{\{\s*matrix\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}`;
const IMAGE_PATTERN = new RegExp(
  `^(?:[a-z0-9]|${TEMPLATE_PART})(?:[a-z0-9._\\-/:@]|${TEMPLATE_PART})*$`,
  "i",
);

/**
 * Most hooks one configuration may declare. Each hook is a job and a check run: a build and
 * its jobs are written in one store transaction (DynamoDB takes at most 100 items), and
 * check runs are created one GitHub write a second, so 50 take nearly a minute.
 */
export const MAX_HOOKS = 50;

/** Most jobs one configuration makes, hooks and matrix combinations together (see MAX_HOOKS). */
export const MAX_JOBS = 50;

const matrixValue = z
  .union([z.string().min(1).max(100), z.number(), z.boolean()], {
    error: "expected a string, number or boolean",
  })
  .transform(String);
const MATRIX_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const combination = z.record(
  z.string().regex(MATRIX_KEY, {
    message: "expected a key of letters, digits and '_', not starting with a digit",
  }),
  matrixValue,
);
/** The matrices that passed their own checks and were transformed. */
const checked = new WeakSet<MatrixInput>();
const matrixSchema = z
  .object({
    include: z.array(combination).max(MAX_JOBS).default([]),
    exclude: z.array(combination).max(100).default([]),
  })
  .catchall(z.array(matrixValue).min(1).max(MAX_JOBS))
  .superRefine((matrix, ctx) => {
    for (const [key, values] of Object.entries(matrix)) {
      if (key === "include" || key === "exclude") continue;
      if (!MATRIX_KEY.test(key)) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: "expected a matrix key of letters, digits and '_', not starting with a digit",
          continue: false,
        });
      }
      listedOnce(values as string[], ctx, [key], true);
    }
  })
  .transform(({ include, exclude, ...axes }): MatrixInput => {
    const matrix = { axes: axes as Record<string, string[]>, include, exclude };
    checked.add(matrix);
    return matrix;
  });

/**
 * The combinations of a matrix that passed its own checks; undefined for one that did not
 * (zod still runs later refinements on it, untransformed), whose problems are already told.
 */
function combinationsOf(matrix: MatrixInput | undefined): MatrixCombination[] | undefined {
  if (!matrix || !checked.has(matrix)) return undefined;
  return matrixCombinations(matrix);
}

/**
 * Matrix templates name keys every combination has; a templated image is a valid reference
 * in each; templates without a matrix, or a matrix without combinations, are errors.
 */
function checkMatrixUse(
  hook: { matrix?: MatrixInput | undefined; image: string; env: Record<string, string> },
  ctx: z.RefinementCtx,
): void {
  if (hook.matrix && !combinationsOf(hook.matrix)) return;
  const combos = combinationsOf(hook.matrix) ?? [{}];
  if (hook.matrix && combos.length === 0) {
    ctx.addIssue({ code: "custom", path: ["matrix"], message: "makes no combination" });
    return;
  }
  const fields: [(string | number)[], string][] = [
    [["image"], hook.image],
    ...Object.entries(hook.env).map(([k, v]): [(string | number)[], string] => [["env", k], v]),
  ];
  for (const [path, text] of fields) {
    const { keys, malformed } = templateKeys(text);
    if (malformed) {
      ctx.addIssue({
        code: "custom",
        path,
        message: "expected ${{ matrix.KEY }} templates only",
      });
      continue;
    }
    const missing = keys.find((key) => combos.some((combo) => !(key in combo)));
    if (missing !== undefined) {
      ctx.addIssue({
        code: "custom",
        path,
        message: hook.matrix
          ? `\${{ matrix.${missing} }} names a key some combination of the matrix lacks`
          : `\${{ matrix.${missing} }} needs a matrix: the hook has none`,
      });
      continue;
    }
    if (path[0] !== "image" || keys.length === 0) continue;
    for (const combo of combos) {
      const image = substituteMatrix(text, combo);
      const problem = /^[a-z0-9][a-z0-9._\-/:@]*$/i.test(image)
        ? checkHookImage(image)
        : "expected a Docker image reference";
      if (problem) {
        ctx.addIssue({ code: "custom", path, message: `${problem} (as ${image})` });
        break;
      }
    }
  }
}

/** The events a hook can run on (`on:`). */
export const HOOK_EVENTS = ["push", "pull_request", "schedule", "manual"] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

const refPatterns = z
  .array(
    z
      .string()
      .min(1)
      .max(255)
      .regex(/^!?[^\s!][^\s]*$/, {
        message: "expected a branch or tag name pattern such as main, release/* or !release/old",
      }),
  )
  .min(1)
  .max(100)
  .optional();

const pathPatterns = z
  .array(z.string().superRefine(problemOf(checkTrackedPattern)))
  .min(1)
  .max(100)
  .optional();

/** Most `reports:` patterns one hook may list. */
export const MAX_REPORT_PATTERNS = 20;

/** Most `services:` one hook may declare: each is a container beside the build, with its limits. */
export const MAX_SERVICES = 5;

const envSchema = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
      message: "expected a variable name of letters, digits and '_', not starting with a digit",
    }),
    z.union([z.string(), z.number(), z.boolean()], {
      error: "expected a string, number or boolean",
    }),
  )
  .default({})
  .transform((env) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])));

/** One service container beside the build: reached at its name on the job's own network. */
const serviceSchema = z
  .strictObject({
    image: z
      .string()
      .min(1)
      .regex(/^[a-z0-9][a-z0-9._\-/:@]*$/i, { message: "expected a Docker image reference" })
      .superRefine(problemOf(checkHookImage))
      .describe("Docker image of the service, e.g. `mariadb:11`."),
    env: envSchema.describe("Environment of the service's container, e.g. its passwords."),
    command: z
      .array(z.string().max(4096))
      .min(1)
      .max(100)
      .optional()
      .describe(
        'Command (the image\'s CMD) as a list of words, e.g. `[redis-server, --save, ""]`. ' +
          "Default: the image's.",
      ),
    health: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe(
        "Shell command run in the service's container until it exits 0, e.g. `mysqladmin ping`; " +
          "the build starts once every service's check passed. Default: none, the build starts " +
          "once the service's container runs.",
      ),
    health_timeout: duration
      .default(120)
      .describe('How long the health command may keep failing, e.g. "2m". Default 2m.'),
  })
  .describe("A service container: a database or cache the build reaches at the service's name.");

/** Most `artifacts:` patterns one hook may list. */
export const MAX_ARTIFACT_PATTERNS = 20;

const ARTIFACT_ROOT = "/kozmic/src/";

const artifactPatterns = z
  .array(z.string().max(500))
  .max(MAX_ARTIFACT_PATTERNS, { message: `expected at most ${MAX_ARTIFACT_PATTERNS} patterns` });

/**
 * The two shapes, told apart first (a union's own message names neither's problem), then
 * each path checked; the build's own absolute path to its checkout means the same file.
 */
const artifactsSchema = z
  .union(
    [
      artifactPatterns.transform((paths) => ({ paths, when: "always" as const })),
      z.strictObject({
        paths: artifactPatterns,
        when: z
          .enum(["always", "success"])
          .default("always")
          .describe(
            "`always` (default): also when the build failed; `success`: only when it passed.",
          ),
      }),
    ],
    { error: "expected a list of paths, or {paths: [...], when: always or success}" },
  )
  .transform(({ paths, when }) => ({
    paths: paths.map((p) => (p.startsWith(ARTIFACT_ROOT) ? p.slice(ARTIFACT_ROOT.length) : p)),
    when,
  }))
  .superRefine(({ paths }, ctx) => {
    paths.forEach((pattern, i) => {
      const problem = pattern.startsWith("/")
        ? `must be under ${ARTIFACT_ROOT} (the checkout), or relative to it`
        : checkTrackedPattern(pattern);
      if (problem) ctx.addIssue({ code: "custom", path: [i], message: `${pattern}: ${problem}` });
    });
  })
  .default({ paths: [], when: "always" })
  .describe(
    "Files the build produced, kept with the job: paths or glob patterns relative to the repository " +
      "root (or absolute under `/kozmic/src`), e.g. `[dist/*.whl, coverage.xml]`, or " +
      "`{paths: [...], when: success}`. Collected when the build ends, listed on the job's page " +
      "for download, and copied by `kozmic run` into `./kozmic-artifacts/<hook>/`.",
  );

/** One hook of `.github/kozmic.yml`: a job that runs on every push and pull request. */
export const hookSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, {
        message:
          "expected letters, digits, spaces, '.', '_' or '-', starting with a letter or digit",
      })
      .describe("Unique name of the hook; it is the name of the check run on GitHub."),
    image: z
      .string()
      .min(1)
      .regex(IMAGE_PATTERN, { message: "expected a Docker image reference" })
      // A templated image is checked once per matrix combination, below.
      .superRefine(problemOf((ref) => (ref.includes("${{") ? undefined : checkHookImage(ref))))
      .describe(
        "Docker base image the scripts run in, by name (with tag or digest), e.g. `python:3.12`. " +
          "`${{ matrix.KEY }}` is replaced by the matrix combination's value. " +
          "Image IDs and Kozmic's own `kozmic-cache/` images are refused.",
      ),
    user: z
      .string()
      .regex(/^(root|[a-z_][a-z0-9_.-]*[$]?|\d+(:\d+)?)$/, {
        message: 'expected "root", a user name of the image, or a numeric uid[:gid]',
      })
      .optional()
      .describe(
        "User the scripts run as: `root`, a user name of the image, or `uid[:gid]`. " +
          "Default: the image's `kozmic` user if it has one, else the image's `USER`.",
      ),
    install: script
      .optional()
      .describe(
        "Script whose result is cached: it runs once, its container is committed to an image, " +
          "and later jobs start from that image until the base image, this script or a tracked file changes.",
      ),
    build: script.describe(
      "Script that builds and tests; a non-zero exit fails the job. " +
        "Runs with `/bin/sh -e` unless its first line is a `#!` line naming another interpreter.",
    ),
    echo: z
      .boolean()
      .default(true)
      .describe(
        "Print each top-level command of a shell script before it runs (`+ make test`, as " +
          "written, never expanded), and name the one that failed. Scripts of other interpreters " +
          "(python…) and scripts that trace themselves (`set -x`) are never echoed.",
      ),
    tracked_files: z
      .array(z.string().superRefine(problemOf(checkTrackedPattern)))
      .default([])
      .describe(
        "Paths or glob patterns, relative to the repository root, whose content is part of the install cache key.",
      ),
    reports: z
      .array(z.string().max(500).superRefine(problemOf(checkTrackedPattern)))
      .max(MAX_REPORT_PATTERNS, { message: `expected at most ${MAX_REPORT_PATTERNS} patterns` })
      .default([])
      .describe(
        "JUnit XML test reports the build writes: paths or glob patterns relative to the repository root, " +
          "e.g. `build/test-results/**/*.xml`. Read after the build script ends, also when it failed: " +
          "their counts go on the check run and the job's page, each failed test becomes an annotation.",
      ),
    artifacts: artifactsSchema,
    timeout: duration
      .default(3600)
      .describe('Time limit for the whole job, e.g. "30m". Default 1h.'),
    stall_timeout: duration
      .default(900)
      .describe('The job is killed after this long without output, e.g. "5m". Default 15m.'),
    env: envSchema.describe("Plain environment variables for both scripts. Not for secrets."),
    secrets: z
      .array(z.string().superRefine(problemOf(checkSecretName)))
      .max(100)
      .default([])
      .superRefine((names, ctx) => listedOnce(names, ctx))
      .describe(
        "Names of repository secrets both scripts receive as environment variables (and as files " +
          "`/kozmic/secrets/NAME`, mode 0400). Set them on the repository's Kozmic page or with " +
          "`kozmic secrets set`. Pull requests from forks never receive them.",
      ),
    pull: z
      .enum(["if-not-present", "always"])
      .default("if-not-present")
      .describe("When to pull the base image."),
    network: z
      .enum(["default", "none", "host"])
      .default("default")
      .describe(
        "Network of the containers: `default` is the runner's configured network, `none` has no network, " +
          "`host` is allowed only where the runner permits it.",
      ),
    services: z
      .record(
        z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, {
          message:
            "expected a service name of lowercase letters, digits and '-', starting with a letter " +
            "(at most 31): the build reaches the service at this name",
        }),
        serviceSchema,
      )
      .optional()
      .superRefine((services, ctx) => {
        const count = Object.keys(services ?? {}).length;
        if (count > MAX_SERVICES) {
          ctx.addIssue({
            code: "custom",
            message: `expected at most ${MAX_SERVICES} services; found ${count}`,
          });
        }
      })
      .describe(
        "Containers started before the build, each on the job's own network under its name " +
          "(e.g. `db`), with the job's limits; removed when the job ends. " +
          `At most ${MAX_SERVICES}.`,
      ),
    memory: memory.optional().describe('Memory limit, e.g. "2g". Default: the runner\'s.'),
    cpus: z.number().positive().max(64).optional().describe("CPU limit. Default: the runner's."),
    matrix: matrixSchema
      .optional()
      .describe(
        'Runs the hook once per combination of these values, e.g. `{python: ["3.11", "3.12"]}`: ' +
          "each combination is its own job and check run (`test (python 3.12)`), gets each value " +
          "as `MATRIX_<KEY>` and in `${{ matrix.KEY }}` of `image` and `env` values.",
      ),
    on: z
      .array(z.enum(HOOK_EVENTS))
      .min(1)
      .optional()
      .describe(
        "Events the hook runs on: `push`, `pull_request`, `schedule`, `manual`. Default: all four.",
      ),
    branches: refPatterns.describe(
      "Branch name patterns (`main`, `release/*`, `!release/old`): the hook runs on a push to, " +
        "or a pull request into, a matching branch. A pattern starting with `!` excludes. Default: every branch.",
    ),
    tags: refPatterns.describe(
      "Tag name patterns (`v*`, `!v*-rc*`): the hook runs on a push of a matching tag. " +
        "Default: no tag; tag pushes run only hooks that list `tags`.",
    ),
    paths: pathPatterns.describe(
      "Globs of repository paths (`src/**`): the hook runs only when the push or pull request " +
        "changed a matching file; otherwise its check run ends `skipped`.",
    ),
    paths_ignore: pathPatterns.describe(
      "Globs of repository paths (`docs/**`) whose changes alone do not run the hook; " +
        "otherwise as `paths`.",
    ),
    needs: z
      .array(z.string().min(1).max(100))
      .max(MAX_HOOKS)
      .optional()
      .superRefine((names, ctx) => listedOnce(names, ctx))
      .describe(
        "Names of hooks that must succeed before this one starts (with a matrix: every " +
          "combination). If one fails, is cancelled or skipped, this hook's check run ends " +
          "`skipped`, saying why.",
      ),
    cancel_superseded: z
      .boolean()
      .default(true)
      .describe("A newer push to the same branch or pull request cancels this hook's older jobs."),
  })
  .superRefine(checkMatrixUse)
  .superRefine((hook, ctx) => {
    if (hook.network === "host" && Object.keys(hook.services ?? {}).length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["network"],
        message:
          "cannot be host in a hook with services: the build reaches them on the job's own " +
          "network (remove network: host)",
      });
    }
  })
  .superRefine((hook, ctx) => {
    // The secret would override the plain value unseen: say which to keep.
    const combos = combinationsOf(hook.matrix) ?? [];
    const matrixNames = [...new Set(combos.flatMap((combo) => Object.keys(combo)))].map(
      matrixVariable,
    );
    hook.secrets.forEach((name, index) => {
      if (matrixNames.includes(name)) {
        ctx.addIssue({
          code: "custom",
          path: ["secrets", index],
          message: `${name} is the matrix's variable: name the secret otherwise`,
        });
      }
      if (Object.hasOwn(hook.env, name)) {
        ctx.addIssue({
          code: "custom",
          path: ["secrets", index],
          message: `${name} is also in env: a variable is either plain (env) or a secret, not both`,
        });
      }
    });
  })
  .describe("A hook: a job run in Docker on every push and pull request.");

/** One entry of `schedule:`: when, and which branch's head. */
const scheduleSchema = z
  .strictObject({
    cron: z
      .string()
      .max(200)
      .superRefine(problemOf(checkCron))
      .describe(
        'Cron expression of 5 fields (minute hour day month weekday), in UTC, e.g. "0 3 * * *".',
      ),
    branch: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^\s~^:?*[\\]+$/, { message: "expected a branch name such as main" })
      .optional()
      .describe("Branch whose head is built. Default: the repository's default branch."),
  })
  .describe("A schedule: builds the branch's head at the times `cron` names.");

export const configSchema = z
  .strictObject({
    hooks: z
      .array(hookSchema)
      .min(1)
      .max(MAX_HOOKS)
      .describe(`The hooks of this repository, at most ${MAX_HOOKS}.`),
    schedule: z
      .array(scheduleSchema)
      .max(MAX_SCHEDULES)
      .optional()
      .describe(
        `Times to build a branch's head, at most ${MAX_SCHEDULES}, read from the default branch's ` +
          "configuration: each runs the hooks whose `on` allows `schedule`.",
      ),
  })
  .superRefine((config, ctx) => {
    const counts = config.hooks.map((hook) => combinationsOf(hook.matrix)?.length ?? 1);
    const total = counts.reduce((a, b) => a + b, 0);
    let sum = 0;
    const over = counts.findIndex((count) => (sum += count) > MAX_JOBS);
    if (over >= 0) {
      ctx.addIssue({
        code: "custom",
        path: ["hooks", over, config.hooks[over]!.matrix ? "matrix" : "name"],
        message:
          `a configuration may make at most ${MAX_JOBS} jobs (hooks and matrix combinations ` +
          `together); found ${total}, ${counts[over]} of them from this hook`,
      });
    }
    // Hook names used twice: parseConfig reports them from the YAML, with the line.
    checkNeeds(config.hooks, ctx);
  })
  .describe("Kozmic configuration, read from `.github/kozmic.yml`.");

/**
 * Each name `needs` lists is another hook of the file, and following needs never leads back
 * to where it started.
 */
function checkNeeds(
  hooks: readonly { name: string; needs?: string[] | undefined }[],
  ctx: z.RefinementCtx,
) {
  const names = new Set(hooks.map((hook) => hook.name));
  hooks.forEach((hook, index) => {
    hook.needs?.forEach((need, at) => {
      const path = ["hooks", index, "needs", at];
      if (need === hook.name) {
        ctx.addIssue({
          code: "custom",
          path,
          message: "expected another hook's name, not its own",
        });
      } else if (!names.has(need)) {
        ctx.addIssue({ code: "custom", path, message: "expected the name of another hook" });
      }
    });
  });
  for (const { at, cycle } of findNeedCycles(hooks.map((h) => ({ ...h, needs: h.needs ?? [] })))) {
    ctx.addIssue({
      code: "custom",
      path: ["hooks", at.hook, "needs", at.need],
      message: `needs form a cycle, found: ${cycle.join(" → ")}`,
    });
  }
}

/**
 * The cycles of `needs` (unknown names and self-needs left out), each once: the need that
 * closes it (hook index, index in its needs) and the names around it.
 */
export function findNeedCycles(
  hooks: readonly { name: string; needs: readonly string[] }[],
): { at: { hook: number; need: number }; cycle: string[] }[] {
  const index = new Map(hooks.map((hook, i) => [hook.name, i]));
  const state = hooks.map((): "new" | "open" | "done" => "new");
  const found: { at: { hook: number; need: number }; cycle: string[] }[] = [];
  const stack: number[] = [];
  const visit = (i: number) => {
    state[i] = "open";
    stack.push(i);
    hooks[i]!.needs.forEach((need, at) => {
      const j = index.get(need);
      if (j === undefined || j === i) return;
      if (state[j] === "open") {
        const loop = stack.slice(stack.indexOf(j)).map((k) => hooks[k]!.name);
        found.push({ at: { hook: i, need: at }, cycle: [...loop, need] });
      } else if (state[j] === "new") visit(j);
    });
    stack.pop();
    state[i] = "done";
  };
  hooks.forEach((_, i) => {
    if (state[i] === "new") visit(i);
  });
  return found;
}

/** A hook after validation and defaults: durations in seconds, memory in bytes. */
export type Hook = z.output<typeof hookSchema>;
export type Config = z.output<typeof configSchema>;
export type HookInput = z.input<typeof hookSchema>;
