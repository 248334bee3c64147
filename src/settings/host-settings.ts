import * as z from "zod";
import { durationVar, httpUrlVar, patternVar } from "./env-vars.js";
import { schemaGroup, type SettingsGroup } from "./settings-group.js";
import { KOZMIC_AUTO_SCALING_GROUP } from "./shared-variables.js";

/** Amazon EC2's instance metadata service (IMDSv2), as every instance reaches it. */
export const EC2_METADATA_URL = "http://169.254.169.254";

/** The lifecycle hook's name the Kozmic stack gives its runner group (infra/lib/runner-hosts.ts). */
export const DEFAULT_LIFECYCLE_HOOK = "kozmic-drain";

/**
 * A runner on an EC2 Auto Scaling host drains before the host goes: it watches the instance
 * metadata for scale-in and spot interruption, finishes or hands back its jobs, and
 * completes the group's lifecycle action. Off unless KOZMIC_AUTO_SCALING_GROUP is set.
 */
export interface HostSettings {
  drain?: DrainSettings;
}

export interface DrainSettings {
  /** KOZMIC_AUTO_SCALING_GROUP: the group whose lifecycle action the runner completes. */
  groupName: string;
  /** KOZMIC_LIFECYCLE_HOOK */
  hookName: string;
  /** KOZMIC_INSTANCE_METADATA_URL: the metadata service (a test serves its own). */
  metadataUrl: string;
  /** KOZMIC_DRAIN_TIME: the lifecycle hook's timeout; jobs still running near its end go back. */
  drainMs: number;
  /** KOZMIC_INSTANCE_METADATA_POLL: how often the metadata is read. */
  pollMs: number;
}

const schema = z
  .object({
    KOZMIC_AUTO_SCALING_GROUP,
    KOZMIC_LIFECYCLE_HOOK: patternVar(
      "KOZMIC_LIFECYCLE_HOOK",
      /^[A-Za-z0-9_./-]{1,255}$/,
      "a lifecycle hook's name: A-Z a-z 0-9 _ . / -",
    ),
    KOZMIC_INSTANCE_METADATA_URL: httpUrlVar("KOZMIC_INSTANCE_METADATA_URL", EC2_METADATA_URL),
    KOZMIC_DRAIN_TIME: durationVar("KOZMIC_DRAIN_TIME"),
    KOZMIC_INSTANCE_METADATA_POLL: durationVar("KOZMIC_INSTANCE_METADATA_POLL"),
  })
  .transform((e): HostSettings =>
    e.KOZMIC_AUTO_SCALING_GROUP === undefined
      ? {}
      : {
          drain: {
            groupName: e.KOZMIC_AUTO_SCALING_GROUP,
            hookName: e.KOZMIC_LIFECYCLE_HOOK ?? DEFAULT_LIFECYCLE_HOOK,
            metadataUrl: (e.KOZMIC_INSTANCE_METADATA_URL ?? EC2_METADATA_URL).replace(/\/+$/, ""),
            drainMs: (e.KOZMIC_DRAIN_TIME ?? 20 * 60) * 1000,
            pollMs: Math.max(1, e.KOZMIC_INSTANCE_METADATA_POLL ?? 5) * 1000,
          },
        },
  );

export const hostGroup: SettingsGroup<HostSettings> = schemaGroup(schema);
