import type { Env } from "../settings/settings-group.js";
import type { LambdaHttpEvent } from "../http/lambda-http.js";

/** A Lambda function URL's host, as Lambda names it: `<url-id>.lambda-url.<region>.on.aws`. */
const FUNCTION_URL_HOST = /^[a-z0-9]{1,64}\.lambda-url\.[a-z0-9-]{1,32}\.on\.aws$/;

/**
 * The webhook function's environment with KOZMIC_PUBLIC_URL set to the function URL a
 * request came through, when the setting is empty: a function cannot be given its own URL in
 * the deploy that makes it (a cycle), so the first request names it. Lambda sets
 * `requestContext.domainName` itself (a client's Host header does not change it), and only
 * a function URL's form is taken; behind a domain of your own, set KOZMIC_PUBLIC_URL.
 */
export function withFunctionUrlAsPublicUrl(env: Env, event: LambdaHttpEvent): Env {
  if (env.KOZMIC_PUBLIC_URL?.trim()) return env;
  const host = event.requestContext?.domainName;
  if (host === undefined || !FUNCTION_URL_HOST.test(host)) return env;
  return { ...env, KOZMIC_PUBLIC_URL: `https://${host}` };
}
