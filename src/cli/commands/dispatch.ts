import { randomUUID } from "node:crypto";
import { KozmicError } from "../../core/errors.js";
import { parseInputs } from "../../core/manual-inputs.js";
import { startFailure } from "../start-failure.js";

const USAGE =
  "usage: kozmic dispatch OWNER/REPO --ref BRANCH [--input NAME=value]...\n" +
  "  runs the hooks whose `on` allows manual at the branch's head; each input is an\n" +
  "  environment variable of every job";

const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** The repository, branch and inputs of the arguments, or the line saying what is wrong. */
export function readDispatchArgs(
  args: string[],
): { repo: string; branch: string; inputs: Record<string, string> } | string {
  let repo: string | undefined;
  let branch: string | undefined;
  const lines: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith("--") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    if (flag === "--ref" || flag === "--input") {
      const value = inline ?? args[++i];
      if (value === undefined) return `${flag} needs a value`;
      if (flag === "--ref") branch = value;
      else lines.push(value);
    } else if (!arg.startsWith("-") && repo === undefined) repo = arg;
    else return `unexpected argument ${JSON.stringify(arg)}`;
  }
  if (!repo || !REPO.test(repo)) return "name the repository as OWNER/REPO";
  if (!branch || !/^[^\s~^:?*[\\]{1,255}$/.test(branch) || branch.startsWith("-")) {
    return "name the branch with --ref BRANCH";
  }
  const inputs = parseInputs(lines.join("\n"));
  if (typeof inputs === "string") return inputs.replace(/^Input line \d+/, "an --input");
  return { repo, branch, inputs };
}

/** `kozmic dispatch`: a run by hand, as the repository page's "Run" asks for it. */
export async function main(args: string[]): Promise<number> {
  if (args[0] === "--help" || args[0] === "-h") {
    console.log(USAGE);
    return 0;
  }
  const parsed = readDispatchArgs(args);
  if (typeof parsed === "string") {
    console.error(`kozmic dispatch: ${parsed}\n${USAGE}`);
    return 2;
  }
  const [{ ENTRY_POINT_GROUPS, readSettings }, { storeFrom }, { planQueueFrom }] =
    await Promise.all([
      import("../../settings/read-settings.js"),
      import("../../store/open-store.js"),
      import("../../queue/open-queue.js"),
    ]);
  let settings;
  try {
    settings = readSettings(process.env, ENTRY_POINT_GROUPS.dispatch);
  } catch (error) {
    return startFailure("kozmic dispatch", error);
  }
  const store = storeFrom(settings.storage);
  const planQueue = planQueueFrom(settings.storage);
  try {
    const { findRepositoryAsApp } = await import("../find-repository-as-app.js");
    const found = await findRepositoryAsApp(settings.app, parsed.repo);
    const [{ enqueuePlan }, { rerunBuildId }] = await Promise.all([
      import("../../github/app-deps.js"),
      import("../../planner/derived-ids.js"),
    ]);
    const deliveryId = `cli-run:${randomUUID()}`;
    await enqueuePlan({ planQueue, store, newId: randomUUID, now: Date.now }, deliveryId, {
      installationId: found.installationId,
      repository: { id: found.id, fullName: found.fullName, private: found.private },
      task: {
        kind: "manual",
        branch: parsed.branch,
        inputs: parsed.inputs,
        actor: `operator:${process.env.USER ?? "cli"}`.slice(0, 200),
      },
    });
    console.log(
      `asked for a run of ${parsed.branch} in ${found.fullName}: build ${rerunBuildId(found.id, deliveryId)}, ` +
        "planned by the next planner (kozmic serve or the planner Lambda)",
    );
    return 0;
  } catch (error) {
    if (!(error instanceof KozmicError)) throw error;
    console.error(`kozmic dispatch: ${error.message}`);
    return error.transient ? 3 : 1;
  } finally {
    await planQueue.close();
    await store.close();
  }
}
