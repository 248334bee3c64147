import * as z from "zod";
import { patternVar, wholeNumberVar } from "./env-vars.js";
import { schemaGroup, type SettingsGroup } from "./settings-group.js";

/** Where the runner serves Prometheus metrics; no server without a port. */
export interface MetricsSettings {
  /** KOZMIC_METRICS_PORT; unset, the runner serves no metrics. */
  port?: number;
  /** KOZMIC_METRICS_HOST: 127.0.0.1 unless set, so metrics are not public by accident. */
  host: string;
}

const schema = z
  .object({
    KOZMIC_METRICS_PORT: wholeNumberVar("KOZMIC_METRICS_PORT", 1, 65_535),
    KOZMIC_METRICS_HOST: patternVar(
      "KOZMIC_METRICS_HOST",
      /^[A-Za-z0-9.:-]+$/,
      "an address to listen on, such as 127.0.0.1 or 0.0.0.0",
    ),
  })
  .transform((e): MetricsSettings => ({
    ...(e.KOZMIC_METRICS_PORT !== undefined ? { port: e.KOZMIC_METRICS_PORT } : {}),
    host: e.KOZMIC_METRICS_HOST ?? "127.0.0.1",
  }));

export const metricsGroup: SettingsGroup<MetricsSettings> = schemaGroup(schema);
