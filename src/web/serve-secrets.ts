import { checkSecretName } from "../core/secret-rules.js";
import { InvalidSecretError } from "../secrets/secret-vault.js";
import { GitHubUnavailableError } from "./github-user-api.js";
import { encodePath, join, markup, type Html } from "./html.js";
import { HttpError, readForm, redirect, sendHtml } from "./http-replies.js";
import { renderLayout, type PageContext } from "./render-pages.js";
import type { RepositoryRef } from "./web-deps.js";
import {
  accessOf,
  checkCsrf,
  NotFound,
  pageContext,
  type Page,
  type WebRequest,
  type WebServices,
} from "./web-request.js";
import type { Viewer } from "./check-access.js";

const secretsPath = (fullName: string) => `/repos/${encodePath(fullName)}/secrets`;

/**
 * The repository if the viewer is signed in with admin permission on it, as GitHub answers
 * with the viewer's own token. A repository the viewer cannot read is not found; one they
 * read without admin permission is refused, saying why.
 */
async function findAdministered(
  web: WebServices,
  r: WebRequest,
  fullName: string,
): Promise<{ repo: RepositoryRef; viewer: Viewer }> {
  const { settings } = web.deps;
  if (!r.viewer || !settings.oauth.enabled) {
    throw new HttpError(
      403,
      settings.oauth.enabled
        ? "Sign in with GitHub to manage this repository's secrets."
        : "Signing in is not configured on this Kozmic, so secrets are managed with `kozmic secrets` on its host.",
    );
  }
  const repo = await web.deps.findRepository(fullName).catch((error: unknown) => {
    if (!(error instanceof GitHubUnavailableError)) throw error;
    return undefined;
  });
  if (!repo) throw new NotFound();
  const access = await accessOf(web, r, repo);
  if (!access.read) throw new NotFound();
  if (!access.admin) {
    throw new HttpError(
      403,
      `Your GitHub account ${r.viewer.login} is not an admin of ${repo.fullName}: only its admins manage its secrets.`,
    );
  }
  return { repo, viewer: r.viewer };
}

/** GET /repos/<owner>/<repo>/secrets: names, who and when; the forms to change them. */
export const serveSecretsPage: Page<[fullName: string]> = async (web, r, fullName) => {
  const { repo } = await findAdministered(web, r, fullName);
  const vault = web.deps.secrets;
  const secrets = vault ? await vault.list(repo.id) : undefined;
  const ctx = pageContext(web, r);
  return sendHtml(200, renderSecretsPage({ ...ctx, viewer: ctx.viewer! }, repo.fullName, secrets));
};

/** POST /repos/<owner>/<repo>/secrets (form: csrf, name, value): sets or replaces one. */
export const serveSetSecret: Page<[fullName: string]> = async (web, r, fullName) => {
  const { repo, viewer } = await findAdministered(web, r, fullName);
  const form = await readForm(r.c);
  checkCsrf(web, viewer, form);
  const vault = web.deps.secrets;
  if (!vault) throw new HttpError(409, "Repository secrets are off on this Kozmic: it has no key.");
  const name = (form.get("name") ?? "").trim();
  const value = (form.get("value") ?? "").replace(/\r\n/g, "\n");
  try {
    await vault.set(repo.id, name, value, viewer.login);
  } catch (error) {
    if (error instanceof InvalidSecretError) {
      throw new HttpError(400, `${checkSecretName(name) ? "Name" : "Value"}: ${error.message}.`);
    }
    throw error;
  }
  return redirect(303, secretsPath(repo.fullName));
};

/** POST /repos/<owner>/<repo>/secrets/<name>/delete (form: csrf). */
export const serveDeleteSecret: Page<[fullName: string, name: string]> = async (
  web,
  r,
  fullName,
  name,
) => {
  const { repo, viewer } = await findAdministered(web, r, fullName);
  const form = await readForm(r.c);
  checkCsrf(web, viewer, form);
  const vault = web.deps.secrets;
  if (!vault) throw new HttpError(409, "Repository secrets are off on this Kozmic: it has no key.");
  if (!(await vault.remove(repo.id, name))) {
    throw new HttpError(404, `${repo.fullName} has no secret ${name.slice(0, 100)}.`);
  }
  return redirect(303, secretsPath(repo.fullName));
};

const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";

/**
 * A repository's secrets for its admins: names, who changed each and when (never a value),
 * a form to set or replace one and a button to remove each. No `secrets`: this Kozmic has
 * no key, and the page says so instead.
 */
function renderSecretsPage(
  ctx: PageContext & { viewer: NonNullable<PageContext["viewer"]> },
  fullName: string,
  secrets: { name: string; updatedBy: string; updatedAt: number }[] | undefined,
): Html {
  const base = secretsPath(fullName);
  const csrf = markup`<input type="hidden" name="csrf" value="${ctx.viewer.csrf}">`;
  if (!secrets) {
    return renderLayout(
      ctx,
      `Secrets of ${fullName}`,
      markup`<h1>Secrets of ${fullName}</h1>
<p>Repository secrets are off on this Kozmic: its operator has set no key (KOZMIC_SECRETS_KEY or KOZMIC_KMS_KEY_ID).</p>`,
    );
  }
  const rows = secrets.map(
    (
      s,
    ) => markup`<tr><td><code>${s.name}</code></td><td>${s.updatedBy}</td><td>${when(s.updatedAt)}</td>
<td><form method="post" action="${`${base}/${encodeURIComponent(s.name)}/delete`}" class="inline">${csrf}<button type="submit" aria-label="Remove ${s.name}">Remove</button></form></td></tr>`,
  );
  const main = markup`
<h1>Secrets of ${fullName}</h1>
<p>Hooks receive the secrets they name in <code>secrets:</code> as environment variables and as files under <code>/kozmic/secrets</code>. Pull requests from forks never receive them, and every log shows them as <code>***</code>. A value is never shown again once set.</p>
${
  secrets.length > 0
    ? markup`<table class="secrets"><thead><tr><th>Name</th><th>Updated by</th><th>Updated</th><th></th></tr></thead>
<tbody>
${join(rows, "\n")}
</tbody></table>`
    : markup`<p>No secrets yet.</p>`
}
<h2>Set a secret</h2>
<form method="post" action="${base}" class="secret-form">${csrf}
<p><label for="secret-name">Name</label> <input id="secret-name" name="name" required pattern="[A-Za-z_][A-Za-z0-9_]*" maxlength="100" autocomplete="off" spellcheck="false"></p>
<p><label for="secret-value">Value (at least 6 characters)</label><br><textarea id="secret-value" name="value" required minlength="6" rows="4" cols="60" autocomplete="off" spellcheck="false"></textarea></p>
<p><button type="submit">Save secret</button> (a secret of the same name is replaced)</p>
</form>`;
  return renderLayout(ctx, `Secrets of ${fullName}`, main);
}
