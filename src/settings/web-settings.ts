import * as z from "zod";
import { schemaGroup, type SettingsGroup } from "./settings-group.js";
import {
  GITHUB_VARIABLES,
  githubUrls,
  PUBLIC_URL_VARIABLES,
  publicUrl,
} from "./shared-variables.js";

export interface WebSettings {
  /** Where the pages are served, without a trailing slash, e.g. https://ci.example.com. */
  publicUrl: string;
  /** GitHub's web origin (github.com, a GHE host): the OAuth pages and links to commits. */
  githubWebUrl: string;
  /** GitHub's REST API base URL. */
  githubApiUrl: string;
  /** Set when login works; otherwise `missing` names what is not set. */
  oauth:
    | { enabled: true; clientId: string; clientSecret: string; sessionSecret: string }
    | { enabled: false; missing: string[] };
}

const LOGIN_VARIABLES = [
  "GITHUB_CLIENT_ID",
  "GITHUB_CLIENT_SECRET",
  "KOZMIC_SESSION_SECRET",
] as const;

const trimmed = z
  .string()
  .optional()
  .transform((value) => value?.trim());

const schema = z
  .object({
    GITHUB_CLIENT_ID: trimmed,
    GITHUB_CLIENT_SECRET: trimmed,
    // Never echoed: it encrypts the login cookies.
    KOZMIC_SESSION_SECRET: trimmed.refine((secret) => secret === undefined || secret.length >= 32, {
      message:
        "KOZMIC_SESSION_SECRET must be at least 32 characters (e.g. the output of `openssl rand -hex 32`)",
    }),
    ...GITHUB_VARIABLES,
    ...PUBLIC_URL_VARIABLES,
  })
  .transform((e): WebSettings => {
    const github = githubUrls(e);
    // Missing login settings are not an error: public repositories still work and the
    // login page says what to set.
    const missing = LOGIN_VARIABLES.filter((name) => e[name] === undefined);
    return {
      publicUrl: publicUrl(e),
      githubWebUrl: github.webUrl,
      githubApiUrl: github.apiUrl,
      oauth:
        missing.length === 0
          ? {
              enabled: true,
              clientId: e.GITHUB_CLIENT_ID!,
              clientSecret: e.GITHUB_CLIENT_SECRET!,
              sessionSecret: e.KOZMIC_SESSION_SECRET!,
            }
          : { enabled: false, missing: [...missing] },
    };
  });

export const webGroup: SettingsGroup<WebSettings> = schemaGroup(schema);
