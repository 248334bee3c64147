import { parseDocument } from "yaml";

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
