/**
 * The entry points that read the pipeline group alone. Apart from entry-points.ts so that
 * `kozmic run` loads the pipeline's schema and not every group's (15-25 ms at start).
 */
import type { PipelineSettings } from "../core/pipeline-settings.js";
import { pipelineGroup } from "./pipeline-settings.js";
import { readGroups } from "./read-groups.js";
import type { Env } from "./settings-group.js";

function readPipelineGroup(env: Env): PipelineSettings {
  return readGroups(env, { pipeline: pipelineGroup }).pipeline;
}

/** `kozmic run`: the pipeline's limits, as on a runner. */
export const readRunSettings = readPipelineGroup;

/** `kozmic cache`: where the cache records live and what pruning keeps. */
export const readCacheSettings = readPipelineGroup;
