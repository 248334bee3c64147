import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { PermanentError } from "../core/errors.js";
import { dataDirFromEnv } from "../settings/data-dir.js";
import { readSettings } from "../settings/read-settings.js";
import { SECRET_KEYS } from "../settings/secret-env.js";
import { loadSavedEnv } from "../settings/saved-env.js";
import { hostSettingsToSave, lacksAppCredentials } from "./saved-credentials.js";
import { startSetupServer } from "./serve-setup.js";

/** app.yml, from the first directory above this file that has one (src/setup/ or dist/cli/). */
function readAppYml(): string {
  for (let dir = new URL("../", import.meta.url); ; dir = new URL("../", dir)) {
    try {
      return readFileSync(new URL("app.yml", dir), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || dir.pathname === "/") throw error;
    }
  }
}

/**
 * Before `kozmic serve` reads its settings: the App's credentials saved by an earlier
 * registration (<dataDir>/.env) fill what the environment leaves unset; with none at all,
 * the set-up page runs on PORT until an App is registered, and its credentials go into the
 * environment. "ready" then, "stopped" when a signal came first.
 */
export async function setUpAppIfMissing(env: NodeJS.ProcessEnv): Promise<"ready" | "stopped"> {
  const log = (line: string) => console.log(line);
  const dataDir = resolve(dataDirFromEnv(env));
  if ("loaded" in loadSavedEnv(env) && !lacksAppCredentials(env)) {
    log(`kozmic serve: GitHub App settings from ${dataDir}/.env where the environment has none`);
  }
  if (!lacksAppCredentials(env)) return "ready";
  const outcome = await runSetupPage(env, dataDir, log, false);
  if (outcome === "stopped") return "stopped";
  for (const [key, value] of Object.entries(outcome)) if (!env[key]?.trim()) env[key] = value;
  log("kozmic serve: going on as the GitHub App");
  return "ready";
}

/**
 * `kozmic serve --print-credentials`: the set-up page registers an App whose webhooks go to
 * KOZMIC_PUBLIC_URL (a Lambda's function URL, say) while GitHub returns the browser to this
 * server; the App's settings are printed once on stdout (the plain variables, and the JSON of
 * the secret KOZMIC_SECRET_ARN names) and saved nowhere; the page's lines go to stderr.
 */
export async function printAppCredentials(env: NodeJS.ProcessEnv): Promise<"printed" | "stopped"> {
  const dataDir = resolve(dataDirFromEnv(env));
  const outcome = await runSetupPage(env, dataDir, (line) => console.error(line), true);
  if (outcome === "stopped") return "stopped";
  const secret = Object.fromEntries(SECRET_KEYS.map((key) => [key, outcome[key] ?? ""]));
  process.stdout.write(
    [
      "# The GitHub App's settings, shown once and saved nowhere.",
      "# Plain variables:",
      ...Object.entries(outcome)
        .filter(([key]) => !(SECRET_KEYS as readonly string[]).includes(key))
        .map(([key, value]) => `${key}=${value}`),
      "# The secret KOZMIC_SECRET_ARN names (its SecretString):",
      JSON.stringify(secret),
      "",
    ].join("\n"),
  );
  return "printed";
}

/** Serves the set-up page until an App is registered (its variables) or a signal comes. */
async function runSetupPage(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  log: (line: string) => void,
  printOnly: boolean,
): Promise<Record<string, string> | "stopped"> {
  const { web, listen } = readSettings(env, ["web", "listen"]);
  const setup = await startSetupServer({
    ...listen,
    appYml: readAppYml(),
    publicUrl: web.publicUrl,
    publicUrlSet: (env.KOZMIC_PUBLIC_URL ?? "").trim() !== "",
    githubWebUrl: web.githubWebUrl,
    githubApiUrl: web.githubApiUrl,
    dataDir,
    log,
    printOnly,
    alsoSave: hostSettingsToSave(env),
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    throw new PermanentError(`PORT ${listen.port} is already in use; set PORT to a free port`);
  });
  // Signal handlers first: whoever waits for the lines below may stop us at once.
  const signalled = new Promise<"stopped">((done) => {
    const stop = () => done("stopped");
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    void setup.registered.then(() => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
    });
  });
  const page = `${setup.pageUrl}/`;
  log(
    printOnly
      ? `kozmic serve: open ${page} to register a GitHub App whose webhooks go to ${web.publicUrl}/api/github/webhooks; its settings will be printed here once (listening on ${setup.url})`
      : `kozmic serve: no GitHub App yet (APP_ID, PRIVATE_KEY and WEBHOOK_SECRET are unset): ` +
          `open ${page} to register one (listening on ${setup.url})`,
  );
  log(
    `kozmic serve: set-up code: ${setup.code} (enter it on that page; it works once, in one browser)`,
  );
  const outcome = await Promise.race([setup.registered, signalled]);
  await setup.close();
  return outcome;
}
