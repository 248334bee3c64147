import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { PermanentError } from "../core/errors.js";
import { readSettings } from "../settings/read-settings.js";
import { lacksAppCredentials, loadSavedCredentials } from "./saved-credentials.js";
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
export async function setUpAppIfMissing(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void = (line) => console.log(line),
): Promise<"ready" | "stopped"> {
  const dataDir = resolve(env.KOZMIC_DATA_DIR?.trim() || "./.kozmic");
  if (loadSavedCredentials(dataDir) && !lacksAppCredentials(env)) {
    log(`kozmic serve: GitHub App settings from ${dataDir}/.env where the environment has none`);
  }
  if (!lacksAppCredentials(env)) return "ready";
  const { web } = readSettings(env, ["web"]);
  const port = Number(env.PORT?.trim() || 3000);
  const setup = await startSetupServer({
    port,
    host: env.HOST?.trim() || "0.0.0.0",
    appYml: readAppYml(),
    publicUrl: web.publicUrl,
    publicUrlSet: (env.KOZMIC_PUBLIC_URL ?? "").trim() !== "",
    githubWebUrl: web.githubWebUrl,
    githubApiUrl: web.githubApiUrl,
    dataDir,
    log,
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    throw new PermanentError(`PORT ${port} is already in use; set PORT to a free port`);
  });
  log(
    `kozmic serve: no GitHub App yet (APP_ID, PRIVATE_KEY and WEBHOOK_SECRET are unset): ` +
      `open ${web.publicUrl}/ to register one (listening on ${setup.url})`,
  );
  const signalled = new Promise<"stopped">((done) => {
    const stop = () => done("stopped");
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    void setup.registered.then(() => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
    });
  });
  const outcome = await Promise.race([setup.registered, signalled]);
  await setup.close();
  if (outcome === "stopped") return "stopped";
  for (const [key, value] of Object.entries(outcome)) if (!env[key]?.trim()) env[key] = value;
  log("kozmic serve: going on as the GitHub App");
  return "ready";
}
