import { z } from "zod";
import { SettingsError } from "../store/read-storage-settings.js";

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

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const schema = z.object({
  KOZMIC_PUBLIC_URL: optional.refine(
    (v) => v === undefined || (URL.canParse(v) && /^https?:$/.test(new URL(v).protocol)),
    { message: "KOZMIC_PUBLIC_URL must be the http(s) URL the log pages are served at" },
  ),
  KOZMIC_SESSION_SECRET: optional.refine((v) => v === undefined || v.length >= 32, {
    message:
      "KOZMIC_SESSION_SECRET must be at least 32 characters (e.g. the output of `openssl rand -hex 32`)",
  }),
  GITHUB_CLIENT_ID: optional,
  GITHUB_CLIENT_SECRET: optional,
  GHE_HOST: optional.refine((v) => v === undefined || /^[A-Za-z0-9.-]+(:\d+)?$/.test(v), {
    message: "GHE_HOST must be a host name with an optional port, e.g. github.example.com",
  }),
  PORT: z
    .string()
    .regex(/^\d{1,5}$/)
    .optional()
    .catch(undefined),
  GHE_PROTOCOL: z
    .enum(["http", "https"], { message: "GHE_PROTOCOL must be http or https" })
    .optional(),
});

/**
 * The log pages' settings from the environment. Missing OAuth settings are not an error:
 * public repositories still work and the login page says what to set.
 */
export function readWebSettings(env: NodeJS.ProcessEnv = process.env): WebSettings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new SettingsError(
      `invalid web settings: ${parsed.error.issues.map((i) => i.message).join("; ")}`,
    );
  }
  const e = parsed.data;
  const protocol = e.GHE_PROTOCOL ?? "https";
  const missing = (
    ["GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "KOZMIC_SESSION_SECRET"] as const
  ).filter((name) => e[name] === undefined);
  return {
    publicUrl: (e.KOZMIC_PUBLIC_URL ?? `http://localhost:${e.PORT ?? 3000}`).replace(/\/+$/, ""),
    githubWebUrl: e.GHE_HOST ? `${protocol}://${e.GHE_HOST}` : "https://github.com",
    githubApiUrl: e.GHE_HOST ? `${protocol}://${e.GHE_HOST}/api/v3` : "https://api.github.com",
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
}
