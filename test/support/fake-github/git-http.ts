import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FakeGitHub } from "./fake-github.js";

const BACKEND = "/usr/lib/git-core/git-http-backend";
const GIT_PATH = /^\/([^/]+)\/([^/]+)\.git(\/(?:info\/refs|git-upload-pack))$/;

export interface GitRequest {
  path: string;
  status: number;
  /** Bytes of the response body: what a fetch transferred. */
  bytes: number;
  /** The installation whose token authenticated the request, if any. */
  installationId?: number;
}

/** Git smart HTTP (read-only) of the fake GitHub, from real bare repositories under `root`. */
export interface FakeGitHttp {
  /** `<root>/<owner>/<repo>.git` are the bare repositories served. */
  root: string;
  requests: GitRequest[];
  /** The bare repository directory of a repository the fake knows. */
  pathOf(fullName: string): string;
  close(): void;
}

/**
 * Serves `/<owner>/<repo>.git/...` on the fake's own server through Debian's
 * git-http-backend (CGI), as GitHub does: Basic auth with `x-access-token` and an
 * installation token the fake issued for the repository's installation. Anonymous reads
 * work for public repositories only; a wrong token is refused even for those.
 */
export function attachGitHttp(fake: FakeGitHub): FakeGitHttp {
  const root = mkdtempSync(join(tmpdir(), "kozmic-fake-git-"));
  const requests: GitRequest[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? "/", "http://fake");
    const match = GIT_PATH.exec(url.pathname);
    if (!match) return false;
    const [, owner, name, rest] = match as unknown as [string, string, string, string];
    const record: GitRequest = { path: url.pathname, status: 0, bytes: 0 };
    requests.push(record);
    const deny = (status: number, message: string) => {
      record.status = status;
      res.writeHead(status, {
        "content-type": "text/plain",
        ...(status === 401 ? { "www-authenticate": 'Basic realm="GitHub"' } : {}),
      });
      res.end(`${message}\n`);
      req.resume();
    };
    const repo = fake.repositories.get(`${owner}/${name}`.toLowerCase());
    if (!repo) {
      deny(404, "Repository not found.");
      return true;
    }
    const auth = parseBasic(req.headers.authorization);
    if (auth) {
      const installationId =
        auth.user === "x-access-token" ? fake.tokenInstallation(auth.password) : undefined;
      if (installationId === undefined) {
        deny(401, "Invalid username or token.");
        return true;
      }
      if (installationId !== repo.installationId) {
        deny(404, "Repository not found.");
        return true;
      }
      record.installationId = installationId;
    } else if (repo.private) {
      deny(401, "Authentication required.");
      return true;
    }
    runBackend(req, res, record, {
      root,
      pathInfo: `/${repo.owner}/${repo.name}.git${rest}`,
      query: url.search.slice(1),
    });
    return true;
  };
  fake.rawHandlers.push(handler);
  return {
    root,
    requests,
    pathOf: (fullName) => {
      const repo = fake.repository(fullName);
      return join(root, repo.owner, `${repo.name}.git`);
    },
    close: () => {
      const index = fake.rawHandlers.indexOf(handler);
      if (index >= 0) fake.rawHandlers.splice(index, 1);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const encoded = /^Basic (.+)$/i.exec(header ?? "")?.[1];
  if (!encoded) return undefined;
  const text = Buffer.from(encoded, "base64").toString("utf8");
  const colon = text.indexOf(":");
  return colon < 0
    ? { user: text, password: "" }
    : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function runBackend(
  req: IncomingMessage,
  res: ServerResponse,
  record: GitRequest,
  cgi: { root: string; pathInfo: string; query: string },
): void {
  const child = spawn(BACKEND, [], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      GIT_PROJECT_ROOT: cgi.root,
      GIT_HTTP_EXPORT_ALL: "1",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      // GitHub lets clients fetch any commit by its sha, not only advertised tips.
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "uploadpack.allowAnySHA1InWant",
      GIT_CONFIG_VALUE_0: "true",
      REQUEST_METHOD: req.method ?? "GET",
      PATH_INFO: cgi.pathInfo,
      QUERY_STRING: cgi.query,
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
      REMOTE_USER: "x-access-token",
      ...(req.headers["content-encoding"]
        ? { HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"]) }
        : {}),
      ...(req.headers["git-protocol"] ? { GIT_PROTOCOL: String(req.headers["git-protocol"]) } : {}),
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  req.pipe(child.stdin);
  child.stdin.on("error", () => {});
  let head = Buffer.alloc(0);
  let headersSent = false;
  child.stdout.on("data", (data: Buffer) => {
    if (headersSent) {
      record.bytes += data.length;
      res.write(data);
      return;
    }
    head = Buffer.concat([head, data]);
    const end = head.indexOf("\r\n\r\n");
    const altEnd = head.indexOf("\n\n");
    const [at, gap] =
      end >= 0 && (altEnd < 0 || end < altEnd) ? [end, 4] : altEnd >= 0 ? [altEnd, 2] : [-1, 0];
    if (at < 0) return;
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of head.subarray(0, at).toString("latin1").split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const key = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (key.toLowerCase() === "status") status = Number.parseInt(value, 10);
      else headers[key] = value;
    }
    record.status = status;
    res.writeHead(status, headers);
    headersSent = true;
    const body = head.subarray(at + gap);
    record.bytes += body.length;
    res.write(body);
  });
  let stderr = "";
  child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
  child.on("close", (code) => {
    if (!headersSent) {
      record.status = 500;
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(`git-http-backend failed (${code}): ${stderr}`);
      return;
    }
    res.end();
  });
}
