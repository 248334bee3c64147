import * as z from "zod";

/** What GitHub answers when a manifest's code is exchanged: the new App and its secrets. */
export interface RegisteredApp {
  id: number;
  slug: string;
  name: string;
  htmlUrl: string;
  owner: string;
  pem: string;
  webhookSecret: string;
  clientId: string;
  clientSecret: string;
}

const answer = z.object({
  id: z.number().int().positive(),
  slug: z.string().min(1),
  name: z.string(),
  html_url: z.string().url(),
  owner: z.object({ login: z.string() }).nullable(),
  pem: z.string().includes("PRIVATE KEY"),
  webhook_secret: z.string().min(1).nullable(),
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
});

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
  let parsed;
  try {
    parsed = answer.parse(JSON.parse(text));
  } catch {
    throw new Error("GitHub's answer to the code exchange is not a GitHub App with its key");
  }
  if (!parsed.webhook_secret) throw new Error("GitHub's answer holds no webhook secret");
  return {
    id: parsed.id,
    slug: parsed.slug,
    name: parsed.name,
    htmlUrl: parsed.html_url,
    owner: parsed.owner?.login ?? "",
    pem: parsed.pem,
    webhookSecret: parsed.webhook_secret,
    clientId: parsed.client_id,
    clientSecret: parsed.client_secret,
  };
}
