import { parseArgs } from "node:util";
import { readServerSettings, SettingsError } from "../../github/read-server-settings.js";
import { startKozmicServer } from "../../github/start-kozmic-server.js";
import type { Handler } from "../../index.js";
import { openQueue } from "../../queue/open-queue.js";
import { openStore } from "../../store/open-store.js";

const USAGE = `usage: kozmic serve

Runs the GitHub App: webhooks at /api/github/webhooks.
Settings (environment): APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET,
PORT (3000), HOST (0.0.0.0), GHE_HOST, GHE_PROTOCOL (https), KOZMIC_PUBLIC_URL, LOG_LEVEL,
and the queue/store settings (KOZMIC_DATA_DIR, KOZMIC_QUEUE_URL, KOZMIC_TABLE, ...).`;

/** `kozmic serve`: the app's Node server until SIGTERM or SIGINT. Exit 2 on bad settings. */
export async function main(args: string[]): Promise<number> {
  try {
    const { values } = parseArgs({ args, options: { help: { type: "boolean", short: "h" } } });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
  } catch (error) {
    console.error(`kozmic serve: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }

  let settings;
  let queue;
  let store;
  try {
    settings = readServerSettings(process.env);
    queue = openQueue(process.env);
    store = openStore(process.env);
  } catch (error) {
    await queue?.close();
    if (!(error instanceof SettingsError)) throw error;
    console.error(`kozmic serve: ${error.message}`);
    return 2;
  }

  // The log pages and an embedded runner plug in here, next to the webhook handlers.
  const handlers: Handler[] = [];
  const closers: (() => Promise<void>)[] = [() => queue.close(), () => store.close()];

  let server;
  try {
    server = await startKozmicServer(settings, { queue, store, handlers });
  } catch (error) {
    for (const close of closers) await close();
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      console.error(
        `kozmic serve: PORT ${settings.port} is already in use; set PORT to a free port`,
      );
      return 2;
    }
    throw error;
  }
  console.log(
    `kozmic serve: listening on ${server.url}, webhooks at ${server.url}/api/github/webhooks, ` +
      `GitHub API ${settings.baseUrl}, log pages under ${settings.publicUrl}`,
  );

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  console.log(`kozmic serve: ${signal}, finishing the requests in flight`);
  await server.stop();
  for (const close of closers) await close();
  return 0;
}
