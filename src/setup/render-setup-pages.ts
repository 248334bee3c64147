import { renderLayout, type PageContext } from "../web/render-pages.js";
import { markup, type Html } from "../web/html.js";
import type { AppManifest, RegisteredApp } from "./app-manifest.js";

export interface SetupPageInput {
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
export function renderUnlockPage(githubWebUrl: string, wrong = false): Html {
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
export function renderSetupPage(input: SetupPageInput): Html {
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
export function renderRegisteredPage(
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

export function renderSetupError(message: string, githubWebUrl: string): Html {
  const main = markup`<h1>Registration did not finish</h1><p>${message}</p><p><a href="/">Back to set-up</a></p>`;
  return renderLayout(context("/setup/callback", githubWebUrl), "Set up", main);
}
