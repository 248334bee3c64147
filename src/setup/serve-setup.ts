import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { listen } from "../http/listen.js";
import { notFound } from "../http/not-found.js";
import {
  formLimit,
  HttpError,
  pageHeaders,
  readForm,
  redirect,
  reply,
  sendHtml,
} from "../web/http-replies.js";
import { markup, type Html } from "../web/html.js";
import { renderLayout, type PageContext } from "../web/render-pages.js";
import { serializeCookie } from "../web/seal-cookie.js";
import { findAsset } from "../web/serve-assets.js";
import {
  buildAppManifest,
  exchangeManifestCode,
  registrationUrl,
  SETUP_CALLBACK_PATH,
  type AppManifest,
  type RegisteredApp,
} from "./app-manifest.js";
import { credentialsEnv, saveCredentials } from "./saved-credentials.js";
import { createSetupGate } from "./setup-gate.js";

export const SETUP_UNLOCK_PATH = "/setup/unlock";
const SESSION_COOKIE = "kozmic_setup";

export interface SetupOptions {
  port: number;
  host: string;
  /** app.yml's text: the manifest's source. */
  appYml: string;
  publicUrl: string;
  publicUrlSet: boolean;
  githubWebUrl: string;
  githubApiUrl: string;
  dataDir: string;
  log: (line: string) => void;
  /**
   * Print the credentials once instead of saving them (a Lambda deployment's secret): this
   * server's own address (HOST and PORT), not the public URL, is where GitHub returns.
   */
  printOnly?: boolean;
  /** Saved beside the App's credentials (not with printOnly): see hostSettingsToSave. */
  alsoSave?: Record<string, string>;
}

export interface SetupServer {
  /** The address listened on, as bound (http://0.0.0.0:3000 for every interface). */
  url: string;
  /** Where the browser opens the page and GitHub sends it back. */
  pageUrl: string;
  /** The one-time code the operator enters on the page; only the console shows it. */
  code: string;
  /** Resolves with the saved variables once an App is registered and the page answered. */
  registered: Promise<Record<string, string>>;
  close(): Promise<void>;
}

const ORG = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
// eslint-disable-next-line no-control-regex -- a name is shown on GitHub: no control characters
const NAME = /^[^\x00-\x1f\x7f]{1,34}$/;

/**
 * `kozmic serve` without App credentials: a page at / that first asks for the one-time
 * code printed on the server's console, then registers the GitHub App from app.yml (the
 * manifest flow); the callback exchanges GitHub's code for the credentials, saves them in
 * <dataDir>/.env (0600) and hands them back. The callback needs the browser session the
 * code was spent on and a state that session was given for this attempt.
 */
export async function startSetupServer(options: SetupOptions): Promise<SetupServer> {
  const gate = createSetupGate();
  let done: (env: Record<string, string>) => void;
  const registered = new Promise<Record<string, string>>((resolve) => (done = resolve));
  let exchanging = false;
  // Known once listening; every address the pages hand out comes from settings, never Host.
  let pageBase = options.publicUrl;

  const fail = (status: number, message: string) =>
    sendHtml(status, renderSetupError(message, options.githubWebUrl));

  const app = new Hono<{ Bindings: HttpBindings }>();
  // The registration form is posted to GitHub, wherever it is.
  app.use(...pageHeaders(["'self'", "https:", "http:"]));
  app.post(SETUP_UNLOCK_PATH, formLimit(1024), async (c) => {
    const form = await readForm(c);
    const opened = gate.unlock(form.get("code") ?? "");
    if (!opened) {
      options.log("kozmic serve: a wrong or already used set-up code was entered");
      return sendHtml(403, renderUnlockPage(options.githubWebUrl, true));
    }
    return redirect(303, "/", [
      serializeCookie(SESSION_COOKIE, opened, {
        maxAgeSeconds: 24 * 3600,
        secure: pageBase.startsWith("https:"),
      }),
    ]);
  });
  // Says nothing a scanner could use to find a Kozmic waiting to be taken.
  app.get("/healthz", () => reply(503, "text/plain", "Service Unavailable\n"));
  app.get("/assets/*", (c) => {
    const asset = findAsset(c.req.path);
    return asset ? reply(200, asset.type, asset.body) : c.notFound();
  });
  app.get("/", (c) => {
    const session = getCookie(c, SESSION_COOKIE);
    if (!gate.isSession(session)) return sendHtml(200, renderUnlockPage(options.githubWebUrl));
    const org = c.req.query("org")?.trim() || undefined;
    const name = c.req.query("name")?.trim() || undefined;
    if ((org && !ORG.test(org)) || (name && !NAME.test(name))) {
      return fail(
        400,
        org && !ORG.test(org)
          ? `"${org}" is not a GitHub organization name (letters, digits and hyphens, at most 39).`
          : "An App name has 1 to 34 characters, no control characters.",
      );
    }
    const manifest = buildAppManifest(options.appYml, {
      publicUrl: options.publicUrl,
      ...(name ? { name } : {}),
      ...(options.printOnly ? { callbackBase: pageBase } : {}),
    });
    return sendHtml(
      200,
      renderSetupPage({
        manifest,
        action: registrationUrl(options.githubWebUrl, org, gate.newState(session!)),
        ...(org ? { organization: org } : {}),
        githubWebUrl: options.githubWebUrl,
        publicUrl: options.publicUrl,
        publicUrlWarning: !options.publicUrlSet,
      }),
    );
  });
  app.get(SETUP_CALLBACK_PATH, async (c) => {
    const code = c.req.query("code") ?? "";
    if (!gate.takeState(c.req.query("state") ?? "", getCookie(c, SESSION_COOKIE))) {
      return fail(
        400,
        "This link does not come from a registration started in this browser in the last 10 minutes (its state is unknown, used or expired). Start again from the button.",
      );
    }
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(code)) {
      return fail(400, "GitHub's code is missing or malformed.");
    }
    if (exchanging) {
      return fail(409, "A registration is being completed already; reload in a moment.");
    }
    exchanging = true;
    let registeredApp: RegisteredApp;
    try {
      registeredApp = await exchangeManifestCode(options.githubApiUrl, code);
    } catch (error) {
      exchanging = false;
      return fail(502, (error as Error).message);
    }
    const env = {
      ...credentialsEnv(registeredApp),
      ...(options.printOnly ? {} : options.alsoSave),
    };
    const file = options.printOnly
      ? undefined
      : await saveCredentials(options.dataDir, env, registeredApp);
    options.log(
      `kozmic serve: registered GitHub App ${registeredApp.slug} (ID ${registeredApp.id})` +
        (file ? `; its settings are in ${file}` : ""),
    );
    c.env.outgoing.once("finish", () => done(env));
    const page = sendHtml(200, renderRegisteredPage(registeredApp, file, options.githubWebUrl));
    page.headers.set(
      "set-cookie",
      serializeCookie(SESSION_COOKIE, "", { maxAgeSeconds: 0, secure: false }),
    );
    return page;
  });
  app.notFound((c) =>
    c.req.method === "GET" || c.req.method === "HEAD"
      ? notFound()
      : reply(405, "text/plain", "Method not allowed.\n", { allow: "GET, HEAD" }),
  );
  app.onError((error) => {
    if (error instanceof HttpError) return fail(error.status, error.message);
    options.log(`kozmic serve: set-up request failed: ${String(error)}`);
    return fail(500, "The set-up request failed; see the log.");
  });

  const server = await listen(app.fetch, options);
  if (options.printOnly) pageBase = ownPageUrl(options.host, server.port);
  return {
    url: server.url,
    pageUrl: pageBase,
    code: gate.code,
    registered,
    close() {
      server.server.closeAllConnections();
      return server.close();
    },
  };
}

/**
 * Where a browser on this machine reaches this server: HOST as set, or localhost when HOST
 * is every interface. Used with --print-credentials, where KOZMIC_PUBLIC_URL is elsewhere.
 */
function ownPageUrl(host: string, port: number): string {
  const named = host === "0.0.0.0" || host === "::" || host === "" ? "localhost" : host;
  return `http://${named.includes(":") ? `[${named}]` : named}:${port}`;
}

interface SetupPageInput {
  manifest: AppManifest;
  /** Where the form posts the manifest (GitHub's "new GitHub App" page, with the state). */
  action: string;
  organization?: string;
  githubWebUrl: string;
  publicUrl: string;
  /** Set when KOZMIC_PUBLIC_URL is not: GitHub cannot deliver webhooks to localhost. */
  publicUrlWarning: boolean;
}

function context(path: string, githubWebUrl: string): PageContext {
  return { githubWebUrl, path, loginEnabled: false };
}

/**
 * GET / before the set-up code: where to find it and the field to enter it. `wrong` after
 * a code that was not it (or was spent already).
 */
function renderUnlockPage(githubWebUrl: string, wrong = false): Html {
  const main = markup`
<h1>Set up Kozmic</h1>
<p>To register this Kozmic's GitHub App, enter the set-up code that <code>kozmic serve</code>
printed on its console (its log). The code works once, in one browser; restart
<code>kozmic serve</code> for a new one.</p>
${wrong ? markup`<p class="warning" role="alert"><strong>That is not the set-up code</strong>, or it was used already.</p>` : ""}
<form method="post" action="/setup/unlock">
<p><label for="code">Set-up code</label><br><input id="code" name="code" autocomplete="off" autocapitalize="characters" spellcheck="false" required></p>
<p><button type="submit" class="primary">Continue</button></p>
</form>`;
  return renderLayout(context("/", githubWebUrl), "Set up", main);
}

/** GET /: the one button that registers the GitHub App from app.yml's manifest. */
function renderSetupPage(input: SetupPageInput): Html {
  const account = input.organization
    ? markup`the organization <strong>${input.organization}</strong>`
    : "your personal account";
  const main = markup`
<h1>Set up Kozmic</h1>
<p>This Kozmic has no GitHub App yet. Register one on <a href="${input.githubWebUrl}">${input.githubWebUrl}</a>
for ${account}: GitHub asks you to confirm, then sends you back here, and Kozmic saves the App's
credentials and starts working as the App. Nothing needs restarting.</p>
${
  input.publicUrlWarning
    ? markup`<p class="warning"><strong>KOZMIC_PUBLIC_URL is not set</strong>, so GitHub would send webhooks to ${input.publicUrl}, which it cannot reach. Set it to this server's public address and restart, unless GitHub can reach this address.</p>`
    : ""
}
<form method="post" action="${input.action}">
<input type="hidden" name="manifest" value="${JSON.stringify(input.manifest)}">
<button type="submit" class="primary">Register GitHub App</button>
</form>
<dl class="facts">
  <dt>App name</dt><dd>${input.manifest.name}</dd>
  <dt>Webhook URL</dt><dd><code>${input.manifest.hook_attributes.url}</code></dd>
  <dt>Permissions</dt><dd>${Object.entries(input.manifest.default_permissions)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ")}</dd>
  <dt>Events</dt><dd>${input.manifest.default_events.join(", ")}</dd>
</dl>
<h2>Another owner or name</h2>
<form method="get" action="/" class="options">
<p><label for="org">Organization (empty for your personal account)</label><br><input id="org" name="org" value="${input.organization ?? ""}" autocomplete="off"></p>
<p><label for="name">App name (unique on GitHub, at most 34 characters)</label><br><input id="name" name="name" value="${input.manifest.name}" maxlength="34" autocomplete="off"></p>
<p><button type="submit">Use these</button></p>
</form>`;
  return renderLayout(context("/", input.githubWebUrl), "Set up", main);
}

/** After the exchange: what was saved, and the link to install the App on repositories. */
function renderRegisteredPage(
  app: RegisteredApp,
  savedTo: string | undefined,
  githubWebUrl: string,
): Html {
  const kept = savedTo
    ? markup`Its private key, webhook secret and OAuth client are saved in <code>${savedTo}</code>
(readable by this user only), and Kozmic is now running as the App.`
    : markup`Its settings are printed once on the terminal where <code>kozmic serve --print-credentials</code> runs, and saved nowhere: put them in your deployment's secret now.`;
  const main = markup`
<h1>GitHub App registered</h1>
<p><a href="${app.htmlUrl}">${app.name}</a> (App ID ${app.id}${app.owner ? `, owned by ${app.owner}` : ""}) is registered.
${kept}</p>
<p><a class="button" href="${`${app.htmlUrl}/installations/new`}">Install it on repositories</a></p>
<p>Then add <code>.github/kozmic.yml</code> to a repository (<code>kozmic init</code> writes a starter) and push.</p>`;
  return renderLayout(context("/setup/callback", githubWebUrl), "GitHub App registered", main);
}

function renderSetupError(message: string, githubWebUrl: string): Html {
  const main = markup`<h1>Registration did not finish</h1><p>${message}</p><p><a href="/">Back to set-up</a></p>`;
  return renderLayout(context("/setup/callback", githubWebUrl), "Set up", main);
}
