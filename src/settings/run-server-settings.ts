import { z } from "zod";
import { durationVar, oneOfVar } from "./env-vars.js";
import { schemaGroup, type SettingsGroup } from "./settings-group.js";

/** The run server: a background process that keeps `kozmic run`'s code loaded. */
export interface RunServerSettings {
  /** KOZMIC_RUN_SERVER: `on` unless set to `off`. */
  enabled: boolean;
  /** KOZMIC_RUN_SERVER_IDLE: how long the server waits for the next run before it exits. */
  idleSeconds: number;
}

export const DEFAULT_RUN_SERVER_IDLE_SECONDS = 600;

const schema = z
  .object({
    KOZMIC_RUN_SERVER: oneOfVar("KOZMIC_RUN_SERVER", ["on", "off"] as const),
    KOZMIC_RUN_SERVER_IDLE: durationVar("KOZMIC_RUN_SERVER_IDLE").refine(
      (seconds) => seconds === undefined || seconds > 0,
      'KOZMIC_RUN_SERVER_IDLE must be a duration above 0, such as "10m"; to use no server, set KOZMIC_RUN_SERVER=off',
    ),
  })
  .transform((e): RunServerSettings => ({
    enabled: e.KOZMIC_RUN_SERVER !== "off",
    idleSeconds: e.KOZMIC_RUN_SERVER_IDLE ?? DEFAULT_RUN_SERVER_IDLE_SECONDS,
  }));

export const runServerGroup: SettingsGroup<RunServerSettings> = schemaGroup(schema);
