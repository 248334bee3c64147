import { generateKeyPairSync, randomBytes, randomInt } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { KeyObject } from "node:crypto";
import {
  OpenApiValidator,
  type ApiDescription,
  type MatchedOperation,
} from "./openapi-validator.js";
import { verifyAppJwt } from "./verify-app-jwt.js";

export interface FakeRepository {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  private: boolean;
  /** The repository this one is a fork of, by full name. */
  forkOf?: string;
  defaultBranch: string;
  installationId: number;
  /** Files of each commit, by sha then path. */
  commits: Map<string, Map<string, string>>;
  branches: Map<string, string>;
}

export interface FakePullRequest {
  repository: string;
  number: number;
  title: string;
  state: "open" | "closed";
  headSha: string;
  headRef: string;
  /** The repository the head branch lives in (a fork for fork pull requests). */
  headRepository: string;
  baseRef: string;
}

export interface FakeAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: string;
  message: string;
  title?: string;
  start_column?: number;
  end_column?: number;
  raw_details?: string;
}

export interface FakeCheckRun {
  id: number;
  repository: string;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  external_id: string | null;
  details_url: string | null;
  started_at: string | null;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  annotations: FakeAnnotation[];
  actions: { label: string; description: string; identifier: string }[];
  /** Every PATCH body received, in order, so tests can see the transitions. */
  updates: Record<string, unknown>[];
}

export interface Violation {
  method: string;
  path: string;
  status: number;
  operationId?: string;
  errors: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
  operationId?: string;
}

export interface FakeGitHubOptions {
  /** The app's public key; JWTs for /app endpoints must be signed by its private key. */
  appPublicKey: KeyObject | string;
  appId?: number;
  description?: ApiDescription;
  /** Serve under `/api/v3` as GitHub Enterprise Server does. */
  enterprise?: boolean;
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

interface Injected {
  count: number;
  /** Matching requests to let through first: the failure starts at the (skip + 1)th. */
  skip?: number;
  /** A function makes its reply when served (a rate limit's reset counts from then). */
  reply: Reply | (() => Reply);
  /** Only requests with this method and a path (after any /api/v3) matching this. */
  match?: RequestMatch;
}

/** Which requests an injected failure applies to; all when absent. */
export interface RequestMatch {
  method?: string;
  path?: RegExp;
}

/**
 * An in-memory GitHub that serves the REST operations Kozmic uses, and answers any request
 * that breaks GitHub's OpenAPI description with a 4xx that is also kept in `violations`.
 */
export class FakeGitHub {
  readonly violations: Violation[] = [];
  readonly requests: RecordedRequest[] = [];
  readonly repositories = new Map<string, FakeRepository>();
  readonly pullRequests: FakePullRequest[] = [];
  readonly checkRuns: FakeCheckRun[] = [];
  /** Each page of a pull request's files served, in order. */
  readonly filesListed: { pull: number; page: number }[] = [];
  readonly installations = new Map<number, { id: number; account: string }>();
  /** The app whose JWTs are accepted; a manifest registration (below) replaces it. */
  appId: number;
  private appKey: KeyObject | string;
  /** Apps registered from a manifest, as GitHub's "new GitHub App" page would. */
  readonly registeredApps: { id: number; owner: string; manifest: Record<string, unknown> }[] = [];
  private readonly manifestCodes = new Map<
    string,
    { owner: string; manifest: Record<string, unknown> }
  >();
  /**
   * Handlers for requests outside the REST API (git over HTTP); each answers and returns
   * true, or returns false to pass. They see the request before its body is read.
   */
  readonly rawHandlers: ((req: IncomingMessage, res: ServerResponse) => boolean)[] = [];
  private readonly tokens = new Map<string, number>();
  private readonly injected: Injected[] = [];
  private outage: { until: number; status: number } | undefined;
  private readonly validator: OpenApiValidator;
  private readonly server: Server;
  private readonly prefix: string;
  /**
   * Ids from a random base: Docker labels cache images and containers with repository ids,
   * and test files running at the same time on one Docker engine must not share them.
   */
  private nextId = randomInt(10, 100_000) * 10_000;
  private port = 0;

  private constructor(private readonly options: FakeGitHubOptions) {
    this.appId = options.appId ?? 1;
    this.appKey = options.appPublicKey;
    this.prefix = options.enterprise ? "/api/v3" : "";
    this.validator = new OpenApiValidator(options.description ?? "api.github.com");
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: `fake GitHub crashed: ${String(error)}` }));
      });
    });
  }

  static async start(options: FakeGitHubOptions): Promise<FakeGitHub> {
    const fake = new FakeGitHub(options);
    await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  /** The API base URL to give Octokit (`baseUrl`). */
  get url(): string {
    return `http://127.0.0.1:${this.port}${this.prefix}`;
  }

  /** `host:port`, for Probot's `GHE_HOST` with `GHE_PROTOCOL=http`. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Scheme, host and port without the API prefix: where clone URLs point. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The installation an installation token was issued for, if the fake issued it. */
  tokenInstallation(token: string): number | undefined {
    return this.tokens.get(token);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addInstallation(id: number, account: string): void {
    this.installations.set(id, { id, account });
  }

  addRepository(input: {
    fullName: string;
    installationId: number;
    private?: boolean;
    forkOf?: string;
    defaultBranch?: string;
  }): FakeRepository {
    const [owner, name] = input.fullName.split("/") as [string, string];
    if (!this.installations.has(input.installationId)) {
      this.addInstallation(input.installationId, owner);
    }
    const repo: FakeRepository = {
      id: this.nextId++,
      owner,
      name,
      fullName: input.fullName,
      private: input.private ?? false,
      forkOf: input.forkOf,
      defaultBranch: input.defaultBranch ?? "main",
      installationId: input.installationId,
      commits: new Map(),
      branches: new Map(),
    };
    this.repositories.set(input.fullName.toLowerCase(), repo);
    return repo;
  }

  /** Records a commit with its whole file tree; `branch` then points at it. */
  addCommit(fullName: string, sha: string, files: Record<string, string>, branch?: string): void {
    const repo = this.repository(fullName);
    repo.commits.set(sha, new Map(Object.entries(files)));
    if (branch) repo.branches.set(branch, sha);
  }

  addPullRequest(
    pull: Omit<FakePullRequest, "state" | "headRepository"> & {
      state?: "open" | "closed";
      headRepository?: string;
    },
  ): FakePullRequest {
    const full: FakePullRequest = {
      state: "open",
      headRepository: pull.repository,
      ...pull,
    };
    this.pullRequests.push(full);
    return full;
  }

  repository(fullName: string): FakeRepository {
    const repo = this.repositories.get(fullName.toLowerCase());
    if (!repo) throw new Error(`the fake GitHub has no repository ${fullName}`);
    return repo;
  }

  /**
   * Answers the next `count` valid requests (that `match` accepts) with a 502 Bad Gateway,
   * after letting `skip` of them through.
   */
  failNext(count: number, status = 502, match?: RequestMatch, skip = 0): void {
    this.injected.push({
      count,
      skip,
      reply: { status, body: { message: "Server Error" } },
      match,
    });
  }

  /** Answers every valid request with `status` (a GitHub outage) for the next `ms`. */
  failFor(ms: number, status = 502): void {
    this.outage = { until: Date.now() + ms, status };
  }

  /** Drops the failures injected by failNext/rateLimitNext that have not been served yet. */
  clearFailures(): void {
    this.injected.length = 0;
    this.outage = undefined;
  }

  /**
   * Answers the next `count` valid requests (that `match` accepts) with a rate limit 403, as
   * GitHub does: the secondary limit's message and `retry-after`, or with `primary` the
   * primary limit's `x-ratelimit-remaining: 0` and a reset `retryAfterSeconds` after the
   * answer.
   */
  rateLimitNext(
    count: number,
    retryAfterSeconds = 0,
    options: { match?: RequestMatch; primary?: boolean } = {},
  ): void {
    this.injected.push({
      count,
      match: options.match,
      reply: options.primary
        ? () => primaryRateLimit(retryAfterSeconds)
        : {
            status: 403,
            headers: { "retry-after": String(retryAfterSeconds) },
            body: {
              message:
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
              documentation_url:
                "https://docs.github.com/rest/overview/resources-in-the-rest-api#secondary-rate-limits",
            },
          },
    });
  }

  checkRunsOf(fullName: string, sha?: string): FakeCheckRun[] {
    return this.checkRuns.filter(
      (run) =>
        run.repository.toLowerCase() === fullName.toLowerCase() &&
        (sha === undefined || run.head_sha === sha),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.rawHandlers.some((handler) => handler(req, res))) return;
    const url = new URL(req.url ?? "/", "http://fake");
    const method = (req.method ?? "GET").toUpperCase();
    const raw = await readBody(req);
    const newApp = /^\/(?:organizations\/([A-Za-z0-9-]+)\/)?settings\/apps\/new$/.exec(
      url.pathname,
    );
    if (newApp) return this.registerFromManifest(method, url, raw, newApp[1], res);
    const send = (reply: Reply, operationId?: string): void => {
      this.requests.push({ method, path: url.pathname, status: reply.status, operationId });
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      res.end(reply.body === undefined ? "" : JSON.stringify(reply.body));
    };
    const reject = (status: number, errors: string[], operationId?: string): void => {
      this.violations.push({
        method,
        path: url.pathname + url.search,
        status,
        operationId,
        errors,
      });
      send({ status, body: { message: errors.join("; "), errors } }, operationId);
    };

    if (this.prefix && !url.pathname.startsWith(this.prefix)) {
      return reject(404, [`Enterprise API paths start with ${this.prefix}`]);
    }
    const path = url.pathname.slice(this.prefix.length) || "/";
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        return reject(400, ["Problems parsing JSON"]);
      }
    }
    const result = this.validator.validate(method, path, url.searchParams, body, raw.length > 0);
    if (!result.ok) return reject(result.status, result.errors, result.operationId);

    if (this.outage && Date.now() < this.outage.until) {
      return send(
        { status: this.outage.status, body: { message: "Server Error" } },
        result.operation.operationId,
      );
    }
    const at = this.injected.findIndex(
      ({ match }) =>
        (!match?.method || match.method.toUpperCase() === method) &&
        (!match?.path || match.path.test(path)),
    );
    const injected = this.injected[at];
    if (injected?.skip) {
      injected.skip -= 1;
    } else if (injected) {
      injected.count -= 1;
      if (injected.count <= 0) this.injected.splice(at, 1);
      const reply = typeof injected.reply === "function" ? injected.reply() : injected.reply;
      return send(reply, result.operation.operationId);
    }
    const reply = this.route(result.operation, req, url, body);
    if (reply.status === 422) {
      // Rules GitHub enforces beyond the schema (e.g. a conclusion for completed runs).
      const message = (reply.body as { message: string }).message;
      this.violations.push({
        method,
        path: url.pathname + url.search,
        status: 422,
        operationId: result.operation.operationId,
        errors: [message],
      });
    }
    send(reply, result.operation.operationId);
  }

  private route(op: MatchedOperation, req: IncomingMessage, url: URL, body: unknown): Reply {
    const auth = req.headers.authorization ?? "";
    const p = op.pathParams;
    if (op.operationId === "apps/create-from-manifest") return this.convertManifest(p.code!);
    if (op.template.startsWith("/app")) {
      const jwt = /^Bearer (.+)$/i.exec(auth)?.[1];
      if (!jwt) return unauthorized("A JSON web token could not be decoded");
      const verified = verifyAppJwt(jwt, this.appKey);
      if (!verified.ok) return unauthorized(verified.error);
      if (verified.appId !== String(this.appId)) return unauthorized("the JWT is for another app");
      return this.appRoute(op);
    }
    const repo = this.repositories.get(`${p.owner}/${p.repo}`.toLowerCase());
    const token = /^(?:token|bearer) (.+)$/i.exec(auth)?.[1];
    if (token && auth.toLowerCase().startsWith("bearer ") && token.split(".").length === 3) {
      // App JWT on a repository route: only GET /repos/{owner}/{repo}/installation accepts it,
      // and answers 404 for a repository the app is not installed on, as GitHub does.
      const verified = verifyAppJwt(token, this.appKey);
      if (!verified.ok) return unauthorized(verified.error);
      if (op.operationId === "apps/get-repo-installation") {
        if (!repo) return notFound();
        return { status: 200, body: this.installationJson(repo.installationId) };
      }
      return forbidden("an app JWT cannot call this endpoint; use an installation token");
    }
    if (!token || this.tokens.get(token) === undefined) return unauthorized("Bad credentials");
    if (!repo || this.tokens.get(token) !== repo.installationId) return notFound();
    return this.repoRoute(op, repo, url, body);
  }

  /**
   * GitHub's web page that a manifest is POSTed to (form field `manifest`), as if the person
   * confirmed at once: it keeps the manifest under a new code and sends the browser to the
   * manifest's redirect_url with the code and the given state. Not part of the REST API.
   */
  private registerFromManifest(
    method: string,
    url: URL,
    raw: string,
    organization: string | undefined,
    res: ServerResponse,
  ): void {
    const fail = (status: number, message: string) => {
      this.violations.push({ method, path: url.pathname, status, errors: [message] });
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(`${message}\n`);
    };
    if (method !== "POST") return fail(405, "the manifest is POSTed as a form");
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(new URLSearchParams(raw).get("manifest") ?? "") as Record<
        string,
        unknown
      >;
    } catch {
      return fail(400, "the form field manifest must hold the manifest as JSON");
    }
    const hook = manifest.hook_attributes as { url?: unknown } | undefined;
    const problems = [
      typeof manifest.url === "string" ? "" : "url is required",
      typeof hook?.url === "string" ? "" : "hook_attributes.url is required",
      typeof manifest.redirect_url === "string" ? "" : "redirect_url is required",
      typeof manifest.name === "string" && manifest.name.length <= 34
        ? ""
        : "name must be at most 34 characters",
    ].filter(Boolean);
    if (problems.length > 0) return fail(422, problems.join("; "));
    const code = randomBytes(10).toString("hex");
    this.manifestCodes.set(code, { owner: organization ?? "octocat", manifest });
    const back = new URL(manifest.redirect_url as string);
    back.searchParams.set("code", code);
    const state = url.searchParams.get("state");
    if (state !== null) back.searchParams.set("state", state);
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  /** POST /app-manifests/{code}/conversions: the registered app becomes the fake's app. */
  private convertManifest(code: string): Reply {
    const registration = this.manifestCodes.get(code);
    if (!registration) return notFound();
    this.manifestCodes.delete(code);
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const id = this.nextId++;
    this.appId = id;
    this.appKey = publicKey;
    this.registeredApps.push({ id, ...registration });
    const { manifest, owner } = registration;
    const name = manifest.name as string;
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
    const now = new Date().toISOString();
    return {
      status: 201,
      body: {
        id,
        slug,
        node_id: `A_${id}`,
        owner: { login: owner, id: 1, type: "User" },
        name,
        description: (manifest.description as string | undefined) ?? null,
        external_url: manifest.url,
        html_url: `${this.origin}/apps/${slug}`,
        created_at: now,
        updated_at: now,
        permissions: manifest.default_permissions ?? {},
        events: manifest.default_events ?? [],
        client_id: `Iv1.${randomBytes(8).toString("hex")}`,
        client_secret: randomBytes(20).toString("hex"),
        webhook_secret: randomBytes(20).toString("hex"),
        pem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      },
    };
  }

  private appRoute(op: MatchedOperation): Reply {
    switch (op.operationId) {
      case "apps/get-authenticated":
        return {
          status: 200,
          body: { id: this.appId, slug: "kozmic", name: "Kozmic", owner: { login: "kozmic" } },
        };
      case "apps/get-installation": {
        const id = Number(op.pathParams.installation_id);
        return this.installations.has(id)
          ? { status: 200, body: this.installationJson(id) }
          : notFound();
      }
      case "apps/create-installation-access-token": {
        const id = Number(op.pathParams.installation_id);
        if (!this.installations.has(id)) return notFound();
        const token = `ghs_${randomBytes(18).toString("hex")}`;
        this.tokens.set(token, id);
        return {
          status: 201,
          body: {
            token,
            expires_at: new Date(Date.now() + 3600_000).toISOString(),
            permissions: {
              checks: "write",
              contents: "read",
              metadata: "read",
              pull_requests: "read",
            },
            repository_selection: "selected",
          },
        };
      }
      default:
        return notImplemented(op);
    }
  }

  private repoRoute(op: MatchedOperation, repo: FakeRepository, url: URL, body: unknown): Reply {
    const p = op.pathParams;
    switch (op.operationId) {
      case "repos/get":
        return { status: 200, body: this.repositoryJson(repo) };
      case "apps/get-repo-installation":
        return { status: 200, body: this.installationJson(repo.installationId) };
      case "repos/get-content": {
        const ref = url.searchParams.get("ref") ?? repo.defaultBranch;
        const sha = repo.commits.has(ref) ? ref : repo.branches.get(ref);
        const content = sha === undefined ? undefined : repo.commits.get(sha)?.get(p.path!);
        if (content === undefined) return notFound();
        const name = p.path!.split("/").pop()!;
        return {
          status: 200,
          body: {
            type: "file",
            encoding: "base64",
            size: Buffer.byteLength(content),
            name,
            path: p.path,
            content: Buffer.from(content).toString("base64"),
            sha: randomBytes(20).toString("hex"),
          },
        };
      }
      case "repos/get-branch": {
        const sha = repo.branches.get(p.branch!);
        if (!sha) return notFound();
        return {
          status: 200,
          body: {
            name: p.branch,
            commit: { sha, url: `${this.url}/repos/${repo.fullName}/commits/${sha}` },
            protected: false,
            _links: { self: "", html: "" },
            protection_url: "",
          },
        };
      }
      case "pulls/get": {
        const pull = this.pullRequests.find(
          (pr) =>
            pr.repository.toLowerCase() === repo.fullName.toLowerCase() &&
            pr.number === Number(p.pull_number),
        );
        return pull ? { status: 200, body: this.pullJson(pull) } : notFound();
      }
      case "pulls/list": {
        const state = url.searchParams.get("state") ?? "open";
        const pulls = this.pullRequests.filter(
          (pr) =>
            pr.repository.toLowerCase() === repo.fullName.toLowerCase() &&
            (state === "all" || pr.state === state),
        );
        return { status: 200, body: pulls.map((pr) => this.pullJson(pr)) };
      }
      case "repos/compare-commits":
      case "repos/compare-commits-with-basehead": {
        const [base, head] = p.basehead ? p.basehead.split("...") : [p.base, p.head];
        const before = repo.commits.get(base ?? "");
        const after = repo.commits.get(head ?? "");
        if (!before || !after) return notFound();
        return { status: 200, body: this.compareJson(repo, base!, head!, before, after) };
      }
      case "pulls/list-files": {
        const pull = this.pullRequests.find(
          (pr) =>
            pr.repository.toLowerCase() === repo.fullName.toLowerCase() &&
            pr.number === Number(p.pull_number),
        );
        if (!pull) return notFound();
        const baseSha = repo.branches.get(pull.baseRef);
        const head = this.repositories.get(pull.headRepository.toLowerCase()) ?? repo;
        const files = changedFiles(
          (baseSha && repo.commits.get(baseSha)) || new Map(),
          head.commits.get(pull.headSha) ?? repo.commits.get(pull.headSha) ?? new Map(),
        );
        const perPage = Number(url.searchParams.get("per_page") ?? 30);
        const page = Number(url.searchParams.get("page") ?? 1);
        // GitHub lists at most 3000 files of a pull request.
        const listed = files.slice(0, 3000).slice((page - 1) * perPage, page * perPage);
        this.filesListed.push({ pull: pull.number, page });
        return { status: 200, body: listed };
      }
      case "checks/create": {
        const b = body as Record<string, unknown>;
        const problem = checkRunProblem(b);
        if (problem) return unprocessable(problem);
        const now = new Date().toISOString();
        const output = (b.output ?? {}) as Record<string, unknown>;
        const status = b.conclusion ? "completed" : String(b.status ?? "queued");
        const run: FakeCheckRun = {
          id: this.nextId++,
          repository: repo.fullName,
          name: String(b.name),
          head_sha: String(b.head_sha),
          status,
          conclusion: (b.conclusion as string | undefined) ?? null,
          external_id: (b.external_id as string | undefined) ?? null,
          details_url: (b.details_url as string | undefined) ?? null,
          started_at: (b.started_at as string | undefined) ?? now,
          completed_at:
            (b.completed_at as string | undefined) ?? (status === "completed" ? now : null),
          output: {
            title: (output.title as string | undefined) ?? null,
            summary: (output.summary as string | undefined) ?? null,
            text: (output.text as string | undefined) ?? null,
          },
          annotations: [...((output.annotations as FakeAnnotation[] | undefined) ?? [])],
          actions: (b.actions as FakeCheckRun["actions"] | undefined) ?? [],
          updates: [],
        };
        this.checkRuns.push(run);
        return { status: 201, body: this.checkRunJson(run) };
      }
      case "checks/get": {
        const run = this.findCheckRun(repo, p.check_run_id);
        return run ? { status: 200, body: this.checkRunJson(run) } : notFound();
      }
      case "checks/update": {
        const run = this.findCheckRun(repo, p.check_run_id);
        if (!run) return notFound();
        const b = body as Record<string, unknown>;
        const problem = checkRunProblem({ ...b, name: b.name ?? run.name });
        if (problem) return unprocessable(problem);
        run.updates.push(b);
        const now = new Date().toISOString();
        if (typeof b.name === "string") run.name = b.name;
        if (typeof b.details_url === "string") run.details_url = b.details_url;
        if (typeof b.external_id === "string") run.external_id = b.external_id;
        if (typeof b.started_at === "string") run.started_at = b.started_at;
        if (typeof b.status === "string") run.status = b.status;
        if (typeof b.conclusion === "string") {
          run.conclusion = b.conclusion;
          run.status = "completed";
        }
        if (run.status === "completed") {
          run.completed_at = (b.completed_at as string | undefined) ?? run.completed_at ?? now;
        }
        if (b.output && typeof b.output === "object") {
          const output = b.output as Record<string, unknown>;
          if (typeof output.title === "string") run.output.title = output.title;
          if (typeof output.summary === "string") run.output.summary = output.summary;
          if (typeof output.text === "string") run.output.text = output.text;
          // GitHub appends annotations across updates.
          run.annotations.push(...((output.annotations as FakeAnnotation[] | undefined) ?? []));
        }
        if (Array.isArray(b.actions)) run.actions = b.actions as FakeCheckRun["actions"];
        return { status: 200, body: this.checkRunJson(run) };
      }
      case "checks/list-annotations": {
        const run = this.findCheckRun(repo, p.check_run_id);
        return run ? { status: 200, body: run.annotations } : notFound();
      }
      case "checks/list-for-ref": {
        const ref = p.ref!;
        const sha = repo.branches.get(ref) ?? ref;
        const name = url.searchParams.get("check_name");
        const status = url.searchParams.get("status");
        const runs = this.checkRunsOf(repo.fullName, sha).filter(
          (run) => (!name || run.name === name) && (!status || run.status === status),
        );
        return {
          status: 200,
          body: { total_count: runs.length, check_runs: runs.map((run) => this.checkRunJson(run)) },
        };
      }
      default:
        return notImplemented(op);
    }
  }

  private findCheckRun(repo: FakeRepository, id: string | undefined): FakeCheckRun | undefined {
    return this.checkRuns.find(
      (run) =>
        run.id === Number(id) && run.repository.toLowerCase() === repo.fullName.toLowerCase(),
    );
  }

  private installationJson(id: number): unknown {
    const installation = this.installations.get(id)!;
    return {
      id,
      app_id: this.appId,
      account: { login: installation.account, id: id + 1_000_000, type: "Organization" },
      repository_selection: "selected",
      permissions: { checks: "write", contents: "read", metadata: "read", pull_requests: "read" },
      events: ["push", "pull_request", "check_run", "check_suite"],
    };
  }

  private repositoryJson(repo: FakeRepository): Record<string, unknown> {
    return {
      id: repo.id,
      name: repo.name,
      full_name: repo.fullName,
      private: repo.private,
      fork: repo.forkOf !== undefined,
      owner: { login: repo.owner, id: repo.id + 2_000_000, type: "Organization" },
      default_branch: repo.defaultBranch,
      clone_url: `${this.origin}/${repo.fullName}.git`,
      html_url: `https://github.com/${repo.fullName}`,
      visibility: repo.private ? "private" : "public",
    };
  }

  private pullJson(pull: FakePullRequest): unknown {
    const base = this.repository(pull.repository);
    const head = this.repositories.get(pull.headRepository.toLowerCase()) ?? base;
    return {
      number: pull.number,
      state: pull.state,
      title: pull.title,
      head: { sha: pull.headSha, ref: pull.headRef, repo: this.repositoryJson(head) },
      base: {
        ref: pull.baseRef,
        sha: base.branches.get(pull.baseRef) ?? null,
        repo: this.repositoryJson(base),
      },
    };
  }

  private compareJson(
    repo: FakeRepository,
    base: string,
    head: string,
    before: Map<string, string>,
    after: Map<string, string>,
  ): unknown {
    const commit = (sha: string) => ({
      sha,
      url: `${this.url}/repos/${repo.fullName}/commits/${sha}`,
      commit: { message: "", tree: { sha } },
      parents: [],
    });
    return {
      url: `${this.url}/repos/${repo.fullName}/compare/${base}...${head}`,
      status: "ahead",
      ahead_by: 1,
      behind_by: 0,
      total_commits: 1,
      base_commit: commit(base),
      merge_base_commit: commit(base),
      commits: [commit(head)],
      // GitHub lists at most 300 files of a comparison.
      files: changedFiles(before, after).slice(0, 300),
    };
  }

  private checkRunJson(run: FakeCheckRun): unknown {
    return {
      id: run.id,
      name: run.name,
      head_sha: run.head_sha,
      status: run.status,
      conclusion: run.conclusion,
      external_id: run.external_id,
      details_url: run.details_url,
      started_at: run.started_at,
      completed_at: run.completed_at,
      output: { ...run.output, annotations_count: run.annotations.length },
      app: { id: this.appId, slug: "kozmic" },
      html_url: `https://github.com/${run.repository}/runs/${run.id}`,
    };
  }
}

/** The files of a diff between two trees, as GitHub's diff entries. */
function changedFiles(
  before: Map<string, string>,
  after: Map<string, string>,
): Record<string, unknown>[] {
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  return paths.flatMap((filename) => {
    const was = before.get(filename);
    const is = after.get(filename);
    if (was === is) return [];
    const status = was === undefined ? "added" : is === undefined ? "removed" : "modified";
    return [
      {
        sha: randomBytes(20).toString("hex"),
        filename,
        status,
        additions: 1,
        deletions: 0,
        changes: 1,
        blob_url: `https://github.com/blob/${filename}`,
        raw_url: `https://github.com/raw/${filename}`,
        contents_url: `https://api.github.com/contents/${filename}`,
      },
    ];
  });
}

/** Rules GitHub enforces beyond the JSON schema. */
function checkRunProblem(b: Record<string, unknown>): string | undefined {
  if ((b.status === "completed" || b.completed_at !== undefined) && b.conclusion === undefined) {
    return "conclusion is required when status is completed or completed_at is given";
  }
  const output = b.output as Record<string, unknown> | undefined;
  if (output && (output.title === undefined || output.summary === undefined)) {
    return "output needs both title and summary";
  }
  const actions = b.actions as unknown[] | undefined;
  if (actions && actions.length > 3) return "at most 3 actions";
  return undefined;
}

function unauthorized(message: string): Reply {
  return { status: 401, body: { message } };
}
function forbidden(message: string): Reply {
  return { status: 403, body: { message } };
}
function notFound(): Reply {
  return { status: 404, body: { message: "Not Found" } };
}
function unprocessable(message: string): Reply {
  return { status: 422, body: { message: `Validation Failed: ${message}` } };
}
function notImplemented(op: MatchedOperation): Reply {
  return {
    status: 501,
    body: { message: `the fake GitHub does not serve ${op.operationId} (${op.template})` },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * GitHub's primary rate limit: 403 with the `basic-error` body and the X-RateLimit-* headers
 * the OpenAPI description gives GET /rate_limit (integers; the reset in epoch seconds).
 */
function primaryRateLimit(resetInSeconds: number): Reply {
  const now = Math.floor(Date.now() / 1000);
  return {
    status: 403,
    headers: {
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-used": "5000",
      "x-ratelimit-reset": String(now + resetInSeconds),
      "x-ratelimit-resource": "core",
    },
    body: {
      message: "API rate limit exceeded for installation.",
      documentation_url:
        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits",
    },
  };
}
