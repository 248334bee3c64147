import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sendFallbackNotFound } from "../github/fallback-not-found.js";
import { HttpError, readForm } from "../web/http-replies.js";
import { parseCookies, serializeCookie } from "../web/seal-cookie.js";
import { findAsset } from "../web/serve-assets.js";
import { buildAppManifest, registrationUrl, SETUP_CALLBACK_PATH } from "./app-manifest.js";
import { exchangeManifestCode, type RegisteredApp } from "./exchange-manifest-code.js";
import {
  renderRegisteredPage,
  renderSetupError,
  renderSetupPage,
  renderUnlockPage,
} from "./render-setup-pages.js";
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

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self' https: http:; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

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

  const send = (
    res: ServerResponse,
    status: number,
    html: string,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      "content-type": "text/html; charset=utf-8",
      ...SECURITY_HEADERS,
      ...headers,
    });
    res.end(html);
  };
  const fail = (res: ServerResponse, status: number, message: string) =>
    send(res, status, renderSetupError(message, options.githubWebUrl));

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://setup.invalid");
    const method = req.method ?? "GET";
    const session = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (method === "POST" && url.pathname === SETUP_UNLOCK_PATH) {
      const form = await readForm(req, 1024);
      const opened = gate.unlock(form.get("code") ?? "");
      if (!opened) {
        options.log("kozmic serve: a wrong or already used set-up code was entered");
        return send(res, 403, renderUnlockPage(options.githubWebUrl, true));
      }
      res.writeHead(303, {
        location: "/",
        "cache-control": "no-store",
        "set-cookie": serializeCookie(SESSION_COOKIE, opened, {
          maxAgeSeconds: 24 * 3600,
          secure: pageBase.startsWith("https:"),
        }),
      });
      return res.end();
    }
    if (method !== "GET" && method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
      return res.end("Method not allowed.\n");
    }
    const asset = findAsset(url.pathname);
    if (asset) {
      res.writeHead(200, { "content-type": asset.type, ...SECURITY_HEADERS });
      return res.end(asset.body);
    }
    if (url.pathname === "/healthz") {
      // Says nothing a scanner could use to find a Kozmic waiting to be taken.
      res.writeHead(503, { "content-type": "text/plain", "cache-control": "no-store" });
      return res.end("Service Unavailable\n");
    }
    if (url.pathname === "/") {
      if (!gate.isSession(session)) return send(res, 200, renderUnlockPage(options.githubWebUrl));
      const org = url.searchParams.get("org")?.trim() || undefined;
      const name = url.searchParams.get("name")?.trim() || undefined;
      if ((org && !ORG.test(org)) || (name && !NAME.test(name))) {
        return fail(
          res,
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
      return send(
        res,
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
    }
    if (url.pathname === SETUP_CALLBACK_PATH) {
      const code = url.searchParams.get("code") ?? "";
      if (!gate.takeState(url.searchParams.get("state") ?? "", session)) {
        return fail(
          res,
          400,
          "This link does not come from a registration started in this browser in the last 10 minutes (its state is unknown, used or expired). Start again from the button.",
        );
      }
      if (!/^[A-Za-z0-9_-]{1,100}$/.test(code)) {
        return fail(res, 400, "GitHub's code is missing or malformed.");
      }
      if (exchanging) {
        return fail(res, 409, "A registration is being completed already; reload in a moment.");
      }
      exchanging = true;
      let app: RegisteredApp;
      try {
        app = await exchangeManifestCode(options.githubApiUrl, code);
      } catch (error) {
        exchanging = false;
        return fail(res, 502, (error as Error).message);
      }
      const env = credentialsEnv(app);
      const file = options.printOnly ? undefined : await saveCredentials(options.dataDir, env, app);
      options.log(
        `kozmic serve: registered GitHub App ${app.slug} (ID ${app.id})` +
          (file ? `; its settings are in ${file}` : ""),
      );
      res.on("finish", () => done(env));
      return send(res, 200, renderRegisteredPage(app, file, options.githubWebUrl), {
        "set-cookie": serializeCookie(SESSION_COOKIE, "", { maxAgeSeconds: 0, secure: false }),
      });
    }
    sendFallbackNotFound(res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        if (!res.headersSent) return fail(res, error.status, error.message);
      } else {
        options.log(`kozmic serve: set-up request failed: ${String(error)}`);
        if (!res.headersSent) return fail(res, 500, "The set-up request failed; see the log.");
      }
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  if (options.printOnly) pageBase = ownPageUrl(options.host, address.port);
  return {
    url,
    pageUrl: pageBase,
    code: gate.code,
    registered,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
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
