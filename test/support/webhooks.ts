import { createHmac, randomUUID } from "node:crypto";
import { createRequire } from "node:module";

/** The repository a delivery is about, as the fake GitHub knows it. */
export interface TargetRepository {
  fullName: string;
  id: number;
  private?: boolean;
  installationId: number;
  defaultBranch?: string;
  /** Where git fetches it from; the fake GitHub's own git endpoint is `${fake.origin}/<full name>.git`. */
  cloneUrl?: string;
}

export interface Delivery {
  id: string;
  name: string;
  /** The exact body that was signed. */
  body: string;
  headers: Record<string, string>;
}

type Json = Record<string, unknown>;

interface ExampleGroup {
  name: string;
  examples: Json[];
}

const require = createRequire(import.meta.url);
const examples = require("@octokit/webhooks-examples/api.github.com/index.json") as ExampleGroup[];

/** A deep copy of the first real example of `event` that `match` accepts. */
export function exampleOf(event: string, match: (payload: Json) => boolean = () => true): Json {
  const group = examples.find((g) => g.name === event);
  const found = group?.examples.find(match);
  if (!found) throw new Error(`@octokit/webhooks-examples has no matching ${event} example`);
  return structuredClone(found);
}

function repositoryJson(repo: TargetRepository, base: Json, fork = false): Json {
  const [owner, name] = repo.fullName.split("/") as [string, string];
  const baseOwner = (base.owner ?? {}) as Json;
  return {
    ...base,
    id: repo.id,
    name,
    full_name: repo.fullName,
    private: repo.private ?? false,
    visibility: repo.private ? "private" : "public",
    fork,
    owner: { ...baseOwner, login: owner, name: owner },
    html_url: `https://github.com/${repo.fullName}`,
    clone_url: repo.cloneUrl ?? `https://github.com/${repo.fullName}.git`,
    url: `https://api.github.com/repos/${repo.fullName}`,
    default_branch: repo.defaultBranch ?? "main",
  };
}

function installationJson(repo: TargetRepository): Json {
  return {
    id: repo.installationId,
    node_id: `MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u${repo.installationId}`,
  };
}

/** A push of one commit to a branch (or, with `deleted`, a branch deletion; `tag` for a tag push). */
export function pushPayload(
  repo: TargetRepository,
  opts: {
    sha: string;
    branch?: string;
    tag?: string;
    message?: string;
    before?: string;
    deleted?: boolean;
  },
): Json {
  const payload = exampleOf("push", (p) => String(p.ref).startsWith("refs/heads/"));
  const ref = opts.tag ? `refs/tags/${opts.tag}` : `refs/heads/${opts.branch ?? "main"}`;
  const headCommit = {
    ...((payload.head_commit ?? {}) as Json),
    id: opts.sha,
    tree_id: opts.sha,
    message: opts.message ?? "Update the widgets",
  };
  return {
    ...payload,
    ref,
    before: opts.before ?? "0".repeat(40),
    after: opts.deleted ? "0".repeat(40) : opts.sha,
    created: false,
    deleted: opts.deleted ?? false,
    head_commit: opts.deleted ? null : headCommit,
    commits: opts.deleted ? [] : [headCommit],
    repository: repositoryJson(repo, payload.repository as Json),
    installation: installationJson(repo),
  };
}

/** A pull_request event; `fork` makes the head branch live in another repository. */
export function pullRequestPayload(
  repo: TargetRepository,
  opts: {
    action: "opened" | "synchronize" | "reopened" | "closed" | "edited";
    number: number;
    sha: string;
    title?: string;
    headRef?: string;
    baseRef?: string;
    fork?: { fullName: string; id: number };
  },
): Json {
  const payload = exampleOf(
    "pull_request",
    (p) => p.action === opts.action || p.action === "opened",
  );
  const pr = payload.pull_request as Json;
  const baseRepo = repositoryJson(repo, payload.repository as Json);
  const headRepo = opts.fork
    ? repositoryJson(
        { fullName: opts.fork.fullName, id: opts.fork.id, installationId: repo.installationId },
        payload.repository as Json,
        true,
      )
    : baseRepo;
  const headRef = opts.headRef ?? "feature";
  return {
    ...payload,
    action: opts.action,
    number: opts.number,
    pull_request: {
      ...pr,
      number: opts.number,
      title: opts.title ?? "Make the widgets faster",
      state: opts.action === "closed" ? "closed" : "open",
      head: {
        ...(pr.head as Json),
        sha: opts.sha,
        ref: headRef,
        label: `${headRepo.owner && (headRepo.owner as Json).login}:${headRef}`,
        repo: headRepo,
      },
      base: { ...(pr.base as Json), ref: opts.baseRef ?? "main", repo: baseRepo },
    },
    repository: baseRepo,
    installation: installationJson(repo),
  };
}

/** check_run rerequested / requested_action for one of the app's check runs. */
export function checkRunPayload(
  repo: TargetRepository,
  opts: {
    action: "rerequested" | "requested_action" | "created" | "completed";
    checkRunId: number;
    sha: string;
    name?: string;
    externalId?: string;
    identifier?: string;
  },
): Json {
  const payload = exampleOf("check_run", (p) => p.action === opts.action);
  const run = payload.check_run as Json;
  return {
    ...payload,
    action: opts.action,
    check_run: {
      ...run,
      id: opts.checkRunId,
      head_sha: opts.sha,
      name: opts.name ?? run.name,
      external_id: opts.externalId ?? "",
      check_suite: { ...(run.check_suite as Json), head_sha: opts.sha },
    },
    ...(opts.action === "requested_action"
      ? { requested_action: { identifier: opts.identifier ?? "cancel" } }
      : {}),
    repository: repositoryJson(repo, payload.repository as Json),
    installation: installationJson(repo),
  };
}

/** check_suite rerequested (the "Re-run all checks" button). */
export function checkSuitePayload(
  repo: TargetRepository,
  opts: { action: "rerequested" | "requested" | "completed"; sha: string; headBranch?: string },
): Json {
  const payload = exampleOf("check_suite", (p) => p.action === opts.action);
  return {
    ...payload,
    action: opts.action,
    check_suite: {
      ...(payload.check_suite as Json),
      head_sha: opts.sha,
      head_branch: opts.headBranch ?? "main",
    },
    repository: repositoryJson(repo, payload.repository as Json),
    installation: installationJson(repo),
  };
}

/** The example's installation, given the test's id and account login. */
function installationOf(payload: Json, installationId: number, account: string): Json {
  const installation = payload.installation as Json;
  return {
    ...installation,
    id: installationId,
    account: { ...(installation.account as Json), login: account },
  };
}

/** installation created/deleted/suspend/unsuspend, listing `repositories`. */
export function installationPayload(
  action: "created" | "deleted" | "suspend" | "unsuspend",
  installationId: number,
  account: string,
  repositories: TargetRepository[],
): Json {
  const payload = exampleOf("installation", (p) => p.action === action);
  return {
    ...payload,
    action,
    installation: installationOf(payload, installationId, account),
    repositories: repositories.map(shortRepository),
  };
}

/** installation_repositories added/removed. */
export function installationRepositoriesPayload(
  action: "added" | "removed",
  installationId: number,
  account: string,
  changed: TargetRepository[],
): Json {
  const payload = exampleOf("installation_repositories", (p) => p.action === action);
  return {
    ...payload,
    action,
    installation: installationOf(payload, installationId, account),
    repositories_added: action === "added" ? changed.map(shortRepository) : [],
    repositories_removed: action === "removed" ? changed.map(shortRepository) : [],
  };
}

function shortRepository(repo: TargetRepository): Json {
  return {
    id: repo.id,
    node_id: `R_${repo.id}`,
    name: repo.fullName.split("/")[1],
    full_name: repo.fullName,
    private: repo.private ?? false,
  };
}

/** Signs a payload as GitHub does: HMAC-SHA256 of the exact body in `X-Hub-Signature-256`. */
export function signDelivery(
  name: string,
  payload: Json,
  secret: string,
  id: string = randomUUID(),
): Delivery {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  return {
    id,
    name,
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/kozmic-test",
      "x-github-event": name,
      "x-github-delivery": id,
      "x-hub-signature-256": signature,
    },
  };
}

/** POSTs a delivery over HTTP, as GitHub would. */
export function postDelivery(url: string, delivery: Delivery): Promise<Response> {
  return fetch(url, { method: "POST", headers: delivery.headers, body: delivery.body });
}
