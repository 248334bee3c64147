import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { findAsset } from "../web/serve-assets.js";
import { buildAppManifest, registrationUrl, SETUP_CALLBACK_PATH } from "./app-manifest.js";
import { exchangeManifestCode, type RegisteredApp } from "./exchange-manifest-code.js";
import { renderRegisteredPage, renderSetupError, renderSetupPage } from "./render-setup-pages.js";
import { credentialsEnv, saveCredentials } from "./saved-credentials.js";

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
   * Print the credentials once instead of saving them (a Lambda deployment's secret): the
   * page on this server, not the public URL, is where GitHub returns.
   */
  printOnly?: boolean;
}

export interface SetupServer {
  url: string;
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
 * `kozmic serve` without App credentials: a page at / whose button registers the GitHub App
 * from app.yml (the manifest flow), and the callback that exchanges GitHub's code for the
 * credentials, saves them in <dataDir>/.env (0600) and hands them back. A random state ties
 * the callback to a registration this server started.
 */
export async function startSetupServer(options: SetupOptions): Promise<SetupServer> {
  const state = randomBytes(20).toString("hex");
  let done: (env: Record<string, string>) => void;
  const registered = new Promise<Record<string, string>>((resolve) => (done = resolve));
  let exchanging = false;

  const send = (res: ServerResponse, status: number, html: string) => {
    res.writeHead(status, { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS });
    res.end(html);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://setup");
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
      return res.end("Only GET and HEAD here while Kozmic is being set up.\n");
    }
    const asset = findAsset(url.pathname);
    if (asset) {
      res.writeHead(200, { "content-type": asset.type, ...SECURITY_HEADERS });
      return res.end(asset.body);
    }
    if (url.pathname === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" });
      return res.end("setting up: no GitHub App yet\n");
    }
    if (url.pathname === "/") {
      const org = url.searchParams.get("org")?.trim() || undefined;
      const name = url.searchParams.get("name")?.trim() || undefined;
      if ((org && !ORG.test(org)) || (name && !NAME.test(name))) {
        return send(
          res,
          400,
          renderSetupError(
            org && !ORG.test(org)
              ? `"${org}" is not a GitHub organization name (letters, digits and hyphens, at most 39).`
              : "An App name has 1 to 34 characters, no control characters.",
            options.githubWebUrl,
          ),
        );
      }
      const manifest = buildAppManifest(options.appYml, {
        publicUrl: options.publicUrl,
        ...(name ? { name } : {}),
        ...(options.printOnly ? { callbackBase: `http://${req.headers.host ?? "localhost"}` } : {}),
      });
      return send(
        res,
        200,
        renderSetupPage({
          manifest,
          action: registrationUrl(options.githubWebUrl, org, state),
          ...(org ? { organization: org } : {}),
          githubWebUrl: options.githubWebUrl,
          publicUrl: options.publicUrl,
          publicUrlWarning: !options.publicUrlSet,
        }),
      );
    }
    if (url.pathname === SETUP_CALLBACK_PATH) {
      const code = url.searchParams.get("code") ?? "";
      const given = Buffer.from(url.searchParams.get("state") ?? "");
      if (given.length !== state.length || !timingSafeEqual(given, Buffer.from(state))) {
        return send(
          res,
          400,
          renderSetupError(
            "This link does not come from a registration this server started (its state does not match). Start again from the button.",
            options.githubWebUrl,
          ),
        );
      }
      if (!/^[A-Za-z0-9_-]{1,100}$/.test(code)) {
        return send(
          res,
          400,
          renderSetupError("GitHub's code is missing or malformed.", options.githubWebUrl),
        );
      }
      if (exchanging) {
        return send(
          res,
          409,
          renderSetupError(
            "A registration is being completed already; reload in a moment.",
            options.githubWebUrl,
          ),
        );
      }
      exchanging = true;
      let app: RegisteredApp;
      try {
        app = await exchangeManifestCode(options.githubApiUrl, code);
      } catch (error) {
        exchanging = false;
        return send(res, 502, renderSetupError((error as Error).message, options.githubWebUrl));
      }
      const env = credentialsEnv(app);
      const file = options.printOnly ? undefined : await saveCredentials(options.dataDir, env, app);
      options.log(
        `kozmic serve: registered GitHub App ${app.slug} (ID ${app.id})` +
          (file ? `; its settings are in ${file}` : ""),
      );
      res.on("finish", () => done(env));
      return send(res, 200, renderRegisteredPage(app, file, options.githubWebUrl));
    }
    send(
      res,
      404,
      renderSetupError(
        "Kozmic is not set up yet: register the GitHub App first.",
        options.githubWebUrl,
      ),
    );
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.log(`kozmic serve: set-up request failed: ${String(error)}`);
      if (!res.headersSent) send(res, 500, renderSetupError(String(error), options.githubWebUrl));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host === "0.0.0.0" ? "localhost" : host}:${address.port}`,
    registered,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
