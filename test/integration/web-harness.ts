import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWebHandler } from "../../src/web/create-web-handler.js";
import type { WebSettings } from "../../src/web/read-web-settings.js";
import type { WebDeps } from "../../src/web/web-deps.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import type { BuildRecord, JobRecord, Store } from "../../src/store/port.js";
import { FakeOAuth } from "../support/fake-oauth.js";

export const SESSION_SECRET = "test-session-secret-0123456789abcdef";

export interface WebHarness {
  url: string;
  store: Store;
  oauth: FakeOAuth;
  /** What the pages' buttons asked for, e.g. `rerun build-1 test by alice`. */
  actions: string[];
  signIn(login: string): Promise<string>;
  /** The handler's close(): ends open live tails, as on shutdown. */
  stopLiveTails(): void;
  addJob(input: {
    repo: string;
    job?: Partial<JobRecord>;
    build?: Partial<BuildRecord>;
    log?: string[];
  }): Promise<{ build: BuildRecord; job: JobRecord }>;
  close(): Promise<void>;
}

/**
 * The log pages on a real HTTP server over a real embedded store, with the fake GitHub
 * OAuth/API. Repositories: octo/public (alice writes), octo/secret (private; alice writes,
 * carol reads); bob can read neither beyond what is public.
 */
export async function startWebHarness(
  options: {
    oauth?: boolean;
    pollIntervalMs?: number;
    publicUrl?: string;
    liveMaxMs?: number;
  } = {},
): Promise<WebHarness> {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-web-"));
  const store = openEmbeddedStore({ dataDir: dir });
  const oauth = await FakeOAuth.start();
  oauth.addRepository("octo/public", { private: false, access: { alice: "write" } });
  oauth.addRepository("octo/secret", { private: true, access: { alice: "write", carol: "read" } });
  const actions: string[] = [];

  const holder: { handler?: ReturnType<typeof createWebHandler> } = {};
  const server: Server = createServer((req, res) => {
    void (async () => {
      const handled = await holder.handler!(req, res);
      if (handled !== true) {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not a log page");
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const settings: WebSettings = {
    publicUrl: options.publicUrl ?? url,
    githubWebUrl: oauth.webUrl,
    githubApiUrl: oauth.apiUrl,
    oauth:
      options.oauth === false
        ? { enabled: false, missing: ["GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"] }
        : {
            enabled: true,
            clientId: oauth.clientId,
            clientSecret: oauth.clientSecret,
            sessionSecret: SESSION_SECRET,
          },
  };
  const deps: WebDeps = {
    store,
    settings,
    pollIntervalMs: options.pollIntervalMs ?? 50,
    liveMaxMs: options.liveMaxMs,
    actions: {
      async rerun(build, hook, actor) {
        actions.push(`rerun ${build.id} ${hook ?? "all"} by ${actor}`);
      },
      async cancel(job, actor) {
        actions.push(`cancel ${job.id} by ${actor}`);
        await store.requestCancel(job.id, `cancelled by ${actor}`);
      },
    },
    async findRepository(fullName) {
      const repo = oauth.repositories.get(fullName.toLowerCase());
      return repo && { id: repo.id, fullName: repo.fullName, private: repo.private };
    },
  };
  holder.handler = createWebHandler(deps);

  return {
    url,
    store,
    oauth,
    actions,
    stopLiveTails: () => holder.handler!.close(),
    signIn: (login) => signIn(url, oauth, login),
    async addJob(input) {
      const repo = oauth.repositories.get(input.repo.toLowerCase())!;
      const now = Date.now();
      const build: BuildRecord = {
        id: `build-${randomUUID()}`,
        installationId: 42,
        repoId: repo.id,
        repoFullName: repo.fullName,
        repoPrivate: repo.private,
        sha: "c0ffee".padEnd(40, "1"),
        ref: "refs/heads/main",
        event: "push",
        trigger: "octocat",
        trust: "trusted",
        createdAt: now,
        ...input.build,
      };
      const job: JobRecord = {
        id: `job-${randomUUID()}`,
        buildId: build.id,
        repoId: repo.id,
        repoFullName: repo.fullName,
        sha: build.sha,
        hook: "test",
        status: "completed",
        conclusion: "success",
        checkRunId: 77,
        durations: { pull: 0.5, install: 3, build: 12, total: 15.5 },
        createdAt: now,
        updatedAt: now,
        startedAt: now,
        finishedAt: now,
        ...input.job,
      };
      await store.createBuild(build, [job]);
      for (const [seq, data] of (input.log ?? []).entries()) {
        await store.appendLog({ jobId: job.id, seq, data });
      }
      return { build, job };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await oauth.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Goes through the OAuth web flow as `login` on the fake; returns the session cookie. */
export async function signIn(url: string, oauth: FakeOAuth, login: string): Promise<string> {
  oauth.signInAs = login;
  const start = await fetch(`${url}/login?return_to=/`, { redirect: "manual" });
  const stateCookie = cookieOf(start);
  const authorize = await fetch(start.headers.get("location")!, { redirect: "manual" });
  const callback = await fetch(authorize.headers.get("location")!, {
    redirect: "manual",
    headers: { cookie: stateCookie },
  });
  if (callback.status !== 303) {
    throw new Error(`sign-in failed: ${callback.status} ${await callback.text()}`);
  }
  return cookieOf(callback);
}

/** `name=value` of the first Set-Cookie of a response, for a Cookie header. */
export function cookieOf(response: Response): string {
  const cookie = response.headers.getSetCookie()[0];
  if (!cookie) throw new Error(`no Set-Cookie in the ${response.status} response`);
  return cookie.split(";")[0]!;
}
