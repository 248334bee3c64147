import { checkSecretName } from "../core/secret-rules.js";
import { InvalidSecretError } from "../secrets/secret-vault.js";
import { GitHubUnavailableError } from "./github-user-api.js";
import { HttpError, readForm, redirect } from "./http-replies.js";
import { renderSecretsPage } from "./render-secrets.js";
import { isCsrfTokenValid } from "./seal-cookie.js";
import type { RepositoryRef } from "./web-deps.js";
import {
  accessOf,
  NotFound,
  pageContext,
  sendHtml,
  type Page,
  type WebRequest,
  type WebServices,
} from "./web-request.js";
import type { Viewer } from "./check-access.js";

const secretsPath = (fullName: string) =>
  `/repos/${fullName.split("/").map(encodeURIComponent).join("/")}/secrets`;

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

function checkCsrf(web: WebServices, viewer: Viewer, form: URLSearchParams): void {
  const { settings } = web.deps;
  const secret = settings.oauth.enabled ? settings.oauth.sessionSecret : "";
  if (!isCsrfTokenValid(secret, viewer.sessionId, form.get("csrf"))) {
    throw new HttpError(
      403,
      "The form's CSRF token is missing or belongs to another session; reload the page and try again.",
    );
  }
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
