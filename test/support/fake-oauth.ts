import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { OpenApiValidator } from "./fake-github/openapi-validator.js";

export interface FakeOAuthRepository {
  id: number;
  fullName: string;
  private: boolean;
  /** What each user may do; absent users can read public repositories only. */
  access: Map<string, "read" | "write" | "admin">;
  /** The App's installation it belongs to: listed under GET /user/installations for its users. */
  installationId?: number;
  defaultBranch: string;
  /** Files on the default branch, by path (contents and the root tree). */
  files: Map<string, string>;
}

/**
 * GitHub as the log pages see it: the OAuth web flow (`/login/oauth/authorize` approves at
 * once as `signInAs`, `/login/oauth/access_token`) and, under `/api/v3`, the user-token REST
 * calls (`GET /user`, `GET /repos/{owner}/{repo}`, and for the home page the user's
 * installations, their repositories, a file and the root tree), each checked against GitHub's OpenAPI
 * description. The OAuth endpoints are not in that description, so they live here and not in
 * the fake GitHub.
 */
export class FakeOAuth {
  readonly repositories = new Map<string, FakeOAuthRepository>();
  readonly violations: string[] = [];
  /** Every REST request, e.g. `GET /repos/octo/secret as alice`. */
  readonly apiRequests: string[] = [];
  /** Who the next authorize request signs in. */
  signInAs = "alice";
  /** Make the REST API answer 503 (GitHub down). */
  apiDown = false;
  private readonly codes = new Map<string, { login: string; redirectUri: string }>();
  private readonly tokens = new Map<string, string>();
  private readonly validator = new OpenApiValidator("api.github.com");
  private readonly server: Server;
  private nextId = 5000;
  private port = 0;

  private constructor(
    readonly clientId: string,
    readonly clientSecret: string,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: `fake OAuth crashed: ${String(error)}` }));
      });
    });
  }

  static async start(
    clientId = "Iv1.fakeclient",
    clientSecret = "fake-client-secret",
  ): Promise<FakeOAuth> {
    const fake = new FakeOAuth(clientId, clientSecret);
    await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  /** GitHub's web origin (OAuth pages). */
  get webUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The REST API base, laid out as GitHub Enterprise Server's. */
  get apiUrl(): string {
    return `${this.webUrl}/api/v3`;
  }

  addRepository(
    fullName: string,
    options: { private: boolean; access?: Record<string, "read" | "write" | "admin"> },
  ): FakeOAuthRepository {
    const repo: FakeOAuthRepository = {
      id: this.nextId++,
      fullName,
      private: options.private,
      access: new Map(Object.entries(options.access ?? {})),
      defaultBranch: "main",
      files: new Map(),
    };
    this.repositories.set(fullName.toLowerCase(), repo);
    return repo;
  }

  /** A token for `login` without going through the browser flow. */
  issueToken(login: string): string {
    const token = `ghu_${randomBytes(18).toString("hex")}`;
    this.tokens.set(token, login);
    return token;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.webUrl);
    const method = (req.method ?? "GET").toUpperCase();
    const raw = await readBody(req);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };

    if (method === "GET" && url.pathname === "/login/oauth/authorize") {
      const clientId = url.searchParams.get("client_id");
      const redirectUri = url.searchParams.get("redirect_uri");
      const state = url.searchParams.get("state");
      if (clientId !== this.clientId || !redirectUri || !state) {
        this.violations.push(`authorize without client_id/redirect_uri/state: ${url.search}`);
        res.writeHead(400, { "content-type": "text/plain" });
        res.end("bad authorize request");
        return;
      }
      const code = randomBytes(10).toString("hex");
      this.codes.set(code, { login: this.signInAs, redirectUri });
      const back = new URL(redirectUri);
      back.searchParams.set("code", code);
      back.searchParams.set("state", state);
      res.writeHead(302, { location: back.toString() });
      res.end();
      return;
    }
    if (method === "POST" && url.pathname === "/login/oauth/access_token") {
      const params = (req.headers["content-type"] ?? "").includes("json")
        ? (JSON.parse(raw || "{}") as Record<string, string>)
        : Object.fromEntries(new URLSearchParams(raw));
      if (params.client_id !== this.clientId || params.client_secret !== this.clientSecret) {
        return json(200, { error: "incorrect_client_credentials" });
      }
      const issued = params.code === undefined ? undefined : this.codes.get(params.code);
      if (!issued || (params.redirect_uri && params.redirect_uri !== issued.redirectUri)) {
        return json(200, { error: "bad_verification_code" });
      }
      this.codes.delete(params.code!);
      const token = this.issueToken(issued.login);
      return json(200, { access_token: token, token_type: "bearer", scope: "" });
    }
    if (!url.pathname.startsWith("/api/v3/")) return json(404, { message: "Not Found" });

    const path = url.pathname.slice("/api/v3".length);
    const result = this.validator.validate(
      method,
      path,
      url.searchParams,
      undefined,
      raw.length > 0,
    );
    if (!result.ok) {
      this.violations.push(`${method} ${path}: ${result.errors.join("; ")}`);
      return json(result.status, { message: result.errors.join("; ") });
    }
    const token = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const login = token === undefined ? undefined : this.tokens.get(token);
    this.apiRequests.push(`${method} ${path} as ${login ?? "nobody"}`);
    if (this.apiDown) return json(503, { message: "Service Unavailable" });
    if (!login) return json(401, { message: "Bad credentials" });
    switch (result.operation.operationId) {
      case "users/get-authenticated":
        return json(200, { login, id: 100 + login.length, type: "User" });
      case "repos/get": {
        const { owner, repo: name } = result.operation.pathParams;
        const repo = this.repositories.get(`${owner}/${name}`.toLowerCase());
        const level = repo?.access.get(login);
        if (!repo || (repo.private && !level)) return json(404, { message: "Not Found" });
        return json(200, {
          id: repo.id,
          full_name: repo.fullName,
          private: repo.private,
          permissions: {
            admin: level === "admin",
            maintain: false,
            push: level === "write" || level === "admin",
            triage: level === "write" || level === "admin",
            pull: true,
          },
        });
      }
      case "apps/list-installations-for-authenticated-user": {
        const ids = new Set(
          [...this.repositories.values()]
            .filter((r) => r.installationId !== undefined && r.access.has(login))
            .map((r) => r.installationId!),
        );
        return json(200, {
          total_count: ids.size,
          installations: [...ids].map((id) => ({ id, account: { login: "octo" } })),
        });
      }
      case "apps/list-installation-repos-for-authenticated-user": {
        const id = Number(result.operation.pathParams.installation_id);
        const repos = [...this.repositories.values()].filter(
          (r) => r.installationId === id && r.access.has(login),
        );
        return json(200, {
          total_count: repos.length,
          repositories: repos.map((r) => ({
            id: r.id,
            name: r.fullName.split("/")[1],
            full_name: r.fullName,
            private: r.private,
            default_branch: r.defaultBranch,
          })),
        });
      }
      case "repos/get-content":
      case "git/get-tree": {
        const { owner, repo: name } = result.operation.pathParams;
        const repo = this.repositories.get(`${owner}/${name}`.toLowerCase());
        if (!repo || (repo.private && !repo.access.get(login)))
          return json(404, { message: "Not Found" });
        if (result.operation.operationId === "git/get-tree") {
          // As GitHub: the root's entries, or with ?recursive=1 every blob and tree below it.
          const recursive = url.searchParams.has("recursive");
          const top = new Map<string, string>();
          for (const path of repo.files.keys()) {
            const parts = path.split("/");
            if (!recursive) top.set(parts[0]!, parts.length > 1 ? "tree" : "blob");
            else {
              for (let i = 1; i < parts.length; i++) top.set(parts.slice(0, i).join("/"), "tree");
              top.set(path, "blob");
            }
          }
          return json(200, {
            sha: "0".repeat(40),
            truncated: false,
            tree: [...top].map(([path, type]) => ({ path, type, mode: "100644" })),
          });
        }
        const path = result.operation.pathParams.path!;
        const content = repo.files.get(path);
        if (content === undefined) return json(404, { message: "Not Found" });
        return json(200, {
          type: "file",
          encoding: "base64",
          name: path.split("/").pop(),
          path,
          content: Buffer.from(content).toString("base64"),
        });
      }
      default:
        this.violations.push(`unexpected operation ${result.operation.operationId}`);
        return json(501, { message: `the fake does not serve ${result.operation.operationId}` });
    }
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString("utf8");
}
