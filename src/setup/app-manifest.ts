import { parseDocument } from "yaml";
import * as z from "zod";

/** Where GitHub sends the browser back with the code to exchange for the App's credentials. */
export const SETUP_CALLBACK_PATH = "/setup/callback";

export interface AppManifest {
  name: string;
  url: string;
  description?: string;
  hook_attributes: { url: string; active: boolean };
  redirect_url: string;
  callback_urls: string[];
  setup_url: string;
  public: boolean;
  default_permissions: Record<string, string>;
  default_events: string[];
}

/**
 * The manifest GitHub registers the App from: app.yml's name, permissions and events, with
 * the addresses of this Kozmic (webhooks, the setup callback, the login callback) filled in
 * from its public URL. Pure.
 */
export function buildAppManifest(
  appYml: string,
  options: {
    publicUrl: string;
    name?: string;
    /** Where GitHub sends the browser back, when not the public URL (registering for a Lambda). */
    callbackBase?: string;
  },
): AppManifest {
  const doc = parseDocument(appYml);
  if (doc.errors.length > 0) throw new Error(`app.yml: ${doc.errors[0]!.message}`);
  const source = doc.toJS() as Partial<AppManifest> | null;
  if (!source || typeof source !== "object" || !source.default_permissions) {
    throw new Error("app.yml: expected a GitHub App manifest with default_permissions");
  }
  const base = options.publicUrl.replace(/\/+$/, "");
  return {
    name: (options.name ?? source.name ?? "Kozmic").slice(0, 34),
    url: source.url ?? base,
    ...(source.description ? { description: source.description } : {}),
    hook_attributes: { url: `${base}/api/github/webhooks`, active: true },
    redirect_url: `${(options.callbackBase ?? base).replace(/\/+$/, "")}${SETUP_CALLBACK_PATH}`,
    // Sign-in on the log pages returns here (private repositories' logs).
    callback_urls: [`${base}/login/callback`],
    setup_url: `${base}/`,
    public: source.public ?? false,
    default_permissions: source.default_permissions,
    default_events: source.default_events ?? [],
  };
}

/** Where the manifest is POSTed: the account's or an organization's "new GitHub App" page. */
export function registrationUrl(
  githubWebUrl: string,
  organization: string | undefined,
  state: string,
): string {
  const path = organization
    ? `/organizations/${encodeURIComponent(organization)}/settings/apps/new`
    : "/settings/apps/new";
  return `${githubWebUrl}${path}?state=${encodeURIComponent(state)}`;
}

const answer = z
  .object({
    id: z.number().int().positive(),
    slug: z.string().min(1),
    name: z.string(),
    html_url: z.string().url(),
    owner: z.object({ login: z.string() }).nullable(),
    pem: z.string().includes("PRIVATE KEY"),
    webhook_secret: z.string().min(1).nullable(),
    client_id: z.string().min(1),
    client_secret: z.string().min(1),
  })
  .transform((a) => ({
    id: a.id,
    slug: a.slug,
    name: a.name,
    htmlUrl: a.html_url,
    owner: a.owner?.login ?? "",
    pem: a.pem,
    webhookSecret: a.webhook_secret ?? "",
    clientId: a.client_id,
    clientSecret: a.client_secret,
  }));

/** What GitHub answers when a manifest's code is exchanged: the new App and its secrets. */
export type RegisteredApp = z.output<typeof answer>;

/**
 * POST /app-manifests/{code}/conversions: the code GitHub gave the browser, exchanged (once,
 * within an hour) for the App's id, private key, webhook secret and OAuth client. No
 * authentication: the code is the proof.
 */
export async function exchangeManifestCode(apiUrl: string, code: string): Promise<RegisteredApp> {
  let response: Response;
  try {
    response = await fetch(`${apiUrl}/app-manifests/${encodeURIComponent(code)}/conversions`, {
      method: "POST",
      headers: {
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
        "user-agent": "kozmic-setup",
      },
    });
  } catch (error) {
    throw new Error(`GitHub (${apiUrl}) could not be reached: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (response.status === 404 || response.status === 422) {
    throw new Error(
      `GitHub did not accept the code (${response.status}): a code works once and for an hour; register again`,
    );
  }
  if (response.status !== 201) {
    throw new Error(
      `GitHub answered ${response.status} to the code exchange: ${text.slice(0, 200)}`,
    );
  }
  let app: RegisteredApp;
  try {
    app = answer.parse(JSON.parse(text));
  } catch {
    throw new Error("GitHub's answer to the code exchange is not a GitHub App with its key");
  }
  if (!app.webhookSecret) throw new Error("GitHub's answer holds no webhook secret");
  return app;
}
