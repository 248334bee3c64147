import * as z from "zod";
import { httpUrlVar, patternVar, sizeVar } from "./env-vars.js";
import { schemaGroup, type SettingsGroup } from "./settings-group.js";
import { KOZMIC_DATA_DIR, KOZMIC_LOG_RETENTION_DAYS } from "./shared-variables.js";

/** Bytes of artifacts one job keeps at most when KOZMIC_ARTIFACT_MAX_SIZE is unset. */
export const DEFAULT_ARTIFACT_MAX_BYTES = 1024 ** 3;

export interface ArtifactSettings {
  /** Bytes of artifacts one job keeps at most; a file past them is skipped, with a log line. */
  maxBytes: number;
  store:
    | { kind: "embedded"; dataDir: string; retentionDays: number }
    | { kind: "s3"; bucket: string; region: string; endpoint?: string };
}

const KOZMIC_ARTIFACT_MAX_SIZE = sizeVar("KOZMIC_ARTIFACT_MAX_SIZE").transform(
  (bytes) => bytes ?? DEFAULT_ARTIFACT_MAX_BYTES,
);

const schema = z
  .object({
    KOZMIC_DATA_DIR,
    KOZMIC_LOG_RETENTION_DAYS,
    KOZMIC_ARTIFACT_MAX_SIZE,
    KOZMIC_ARTIFACT_BUCKET: patternVar(
      "KOZMIC_ARTIFACT_BUCKET",
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      "an S3 bucket name (3-63 of a-z 0-9 . -)",
    ),
    AWS_REGION: z.string().optional(),
    AWS_ENDPOINT_URL_S3: httpUrlVar("AWS_ENDPOINT_URL_S3"),
  })
  .superRefine((e, ctx) => {
    if (e.KOZMIC_ARTIFACT_BUCKET && !e.AWS_REGION)
      ctx.addIssue({
        code: "custom",
        message:
          "KOZMIC_ARTIFACT_BUCKET set but AWS_REGION is not: set AWS_REGION to the bucket's region",
      });
  })
  .transform((e): ArtifactSettings => ({
    maxBytes: e.KOZMIC_ARTIFACT_MAX_SIZE,
    store: e.KOZMIC_ARTIFACT_BUCKET
      ? {
          kind: "s3",
          bucket: e.KOZMIC_ARTIFACT_BUCKET,
          region: e.AWS_REGION!,
          ...(e.AWS_ENDPOINT_URL_S3 ? { endpoint: e.AWS_ENDPOINT_URL_S3 } : {}),
        }
      : {
          kind: "embedded",
          dataDir: e.KOZMIC_DATA_DIR,
          retentionDays: e.KOZMIC_LOG_RETENTION_DAYS,
        },
  }));

/** Where jobs' artifacts are kept: an S3 bucket (KOZMIC_ARTIFACT_BUCKET), else the data dir. */
export const artifactGroup: SettingsGroup<ArtifactSettings> = schemaGroup(schema);

/** Only the size limit: `kozmic run` copies artifacts into a directory, never a store. */
export const artifactSizeGroup: SettingsGroup<{ maxBytes: number }> = schemaGroup(
  z
    .object({ KOZMIC_ARTIFACT_MAX_SIZE })
    .transform((e) => ({ maxBytes: e.KOZMIC_ARTIFACT_MAX_SIZE })),
);
