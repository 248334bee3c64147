import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localKeyWrapper } from "../../src/secrets/local-key-wrapper.js";
import { SecretVault } from "../../src/secrets/secret-vault.js";
import { listen } from "../../src/http/listen.js";
import { createWebApp } from "../../src/web/web-app.js";
import type { WebSettings } from "../../src/settings/web-settings.js";
import type { WebDeps } from "../../src/web/web-deps.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import type { BuildRecord, JobRecord, Store } from "../../src/store/port.js";
import type { ArtifactStore } from "../../src/store/artifact-port.js";
import { ProbotOctokit } from "probot";
import { octokitResilienceOptions } from "../../src/checks/create-installation-octokit.js";
import { createRepositoryFinder } from "../../src/web/find-repository-with-app.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";
import { FakeOAuth } from "../support/fake-oauth.js";

export const SESSION_SECRET = "test-session-secret-0123456789abcdef";

/** How GitHub answers over the network: normally, not at all, or with a proxy's error page. */
export type GitHubLine = "up" | "unreachable" | "garbled";

export interface WebHarness {
  url: string;
  store: Store;
  oauth: FakeOAuth;
  /** With `appGitHub`: the GitHub the app asks which repositories it is installed on. */
  github?: FakeGitHub;
  /** With `appGitHub`: cuts or garbles the network between Kozmic and both fakes. */
  setGitHubLine(state: GitHubLine): void;
  /** What the pages' buttons asked for, e.g. `rerun build-1 test by alice`. */
  actions: string[];
  /** Each re-run asked for, with the id its build gets: a test makes it, as the planner would. */
  reruns: { from: BuildRecord; hook: string | undefined; buildId: string }[];
  signIn(login: string): Promise<string>;
  /** The pages' close(): ends open live tails, as on shutdown. */
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
 *
 * `appGitHub` makes it closer to production for outage tests: repositories are looked up as
 * the app (createRepositoryFinder, no retries, nothing remembered) on a fake GitHub holding
 * the same two repositories, and Kozmic reaches both fakes through lines a test can cut.
 */
export async function startWebHarness(
  options: {
    oauth?: boolean;
    pollIntervalMs?: number;
    publicUrl?: string;
    liveMaxMs?: number;
    accessTtlMs?: number;
    appGitHub?: boolean;
    /** The pages over this store (closed with the harness) instead of a new one. */
    store?: Store;
    /** Jobs' kept files, for the job page's list and downloads. */
    artifacts?: ArtifactStore;
  } = {},
): Promise<WebHarness> {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-web-"));
  const store = options.store ?? openEmbeddedStore({ dataDir: dir });
  const oauth = await FakeOAuth.start();
  oauth.addRepository("octo/public", { private: false, access: { alice: "write" } });
  oauth.addRepository("octo/secret", { private: true, access: { alice: "write", carol: "read" } });
  const app = options.appGitHub ? await startAppGitHub(oauth) : undefined;
  const actions: string[] = [];
  const reruns: WebHarness["reruns"] = [];

  // The pages are made once the port, their public URL, is known.
  const holder: { pages?: ReturnType<typeof createWebApp> } = {};
  const listening = await listen((req, env) => holder.pages!.app.fetch(req, env), {
    host: "127.0.0.1",
    port: 0,
  });
  const { server, url } = listening;
  // Longer than any pause in a test (storing a 50 MB log takes seconds): a request must not
  // meet the server closing its idle connection at the same moment (ECONNRESET).
  server.keepAliveTimeout = 120_000;
  const settings: WebSettings = {
    publicUrl: options.publicUrl ?? url,
    githubWebUrl: app?.oauthLine.url ?? oauth.webUrl,
    githubApiUrl: app ? `${app.oauthLine.url}/api/v3` : oauth.apiUrl,
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
    ...(options.artifacts ? { artifacts: options.artifacts } : {}),
    settings,
    pollIntervalMs: options.pollIntervalMs ?? 50,
    liveMaxMs: options.liveMaxMs,
    accessTtlMs: options.accessTtlMs,
    actions: {
      async rerun(build, hook, actor) {
        actions.push(`rerun ${build.id} ${hook ?? "all"} by ${actor}`);
        const buildId = `build-${randomUUID()}`;
        reruns.push({ from: build, hook, buildId });
        return { buildId };
      },
      async dispatch(repo, branch, inputs, actor) {
        actions.push(`run ${repo.fullName} ${branch} ${JSON.stringify(inputs)} by ${actor}`);
        return { buildId: `build-${randomUUID()}` };
      },
      async cancel(job, actor) {
        actions.push(`cancel ${job.id} by ${actor}`);
        await store.requestCancel(job.id, `cancelled by ${actor}`);
      },
    },
    // Secrets under a key of this harness's own: tests read what the pages stored.
    secrets: new SecretVault(store, localKeyWrapper(randomBytes(32))),
    findRepository:
      app?.findRepository ??
      (async (fullName) => {
        const repo = oauth.repositories.get(fullName.toLowerCase());
        return repo && { id: repo.id, fullName: repo.fullName, private: repo.private };
      }),
  };
  holder.pages = createWebApp(deps);

  return {
    url,
    store,
    oauth,
    github: app?.github,
    setGitHubLine(state) {
      if (!app) throw new Error("start the harness with appGitHub to cut its line to GitHub");
      app.oauthLine.state = state;
      app.githubLine.state = state;
    },
    actions,
    reruns,
    stopLiveTails: () => holder.pages!.close(),
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
      await listening.close();
      await app?.close();
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

/**
 * A fake GitHub for the app's calls with the fake OAuth's repositories (same ids), a finder
 * that asks it, and lines to both fakes.
 */
async function startAppGitHub(oauth: FakeOAuth) {
  const key = generateAppKey();
  const github = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 42 });
  for (const repo of oauth.repositories.values()) {
    repo.id = github.addRepository({
      fullName: repo.fullName,
      installationId: 42,
      private: repo.private,
    }).id;
  }
  const githubLine = await startLine(github.url);
  const oauthLine = await startLine(oauth.webUrl);
  const auth = async (installationId?: number) => {
    const octokit = new ProbotOctokit({
      auth: { appId: 42, privateKey: key.privateKeyPem, ...(installationId && { installationId }) },
      baseUrl: githubLine.url,
      // Octokit's retries as in production, milliseconds apart instead of 1, 4 and 9 s.
      ...octokitResilienceOptions({ paceWrites: false, retryAfterBaseValue: 1 }),
    });
    octokit.hook.wrap("request", (send, options) =>
      send({ ...options, request: { ...options.request, retries: 0 } }),
    );
    return octokit;
  };
  return {
    github,
    githubLine,
    oauthLine,
    findRepository: createRepositoryFinder(auth, 0),
    async close() {
      await githubLine.close();
      await oauthLine.close();
      await github.close();
    },
  };
}

/**
 * The network to `target`: passes requests on while up; drops each connection when
 * unreachable; answers 200 with an HTML error page (a proxy's) when garbled.
 */
async function startLine(target: string) {
  const line = { state: "up" as GitHubLine, url: "", close: async () => {} };
  const server = createServer((req, res) => {
    if (line.state === "unreachable") return req.socket.destroy();
    if (line.state === "garbled") {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end("<html><body><h1>502 Bad Gateway</h1></body></html>");
    }
    const onward = request(
      `${new URL(target).origin}${req.url}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    onward.on("error", () => res.destroy());
    req.pipe(onward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  line.url = `http://127.0.0.1:${port}${new URL(target).pathname.replace(/\/$/, "")}`;
  line.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return line;
}
