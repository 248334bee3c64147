import type { JobAnnotation } from "../../src/core/build-records.js";
import { MAX_JOB_ANNOTATIONS } from "../logs/workflow-commands.js";

/**
 * The workflow commands' annotations and the failed tests' under one cap: when both have
 * more than half of it each keeps half, and one with fewer leaves its room to the other.
 */
export function mergeAnnotations(
  commands: readonly JobAnnotation[],
  tests: readonly JobAnnotation[],
  max = MAX_JOB_ANNOTATIONS,
): JobAnnotation[] {
  const half = Math.floor(max / 2);
  const fromCommands = Math.min(commands.length, Math.max(half, max - tests.length));
  return [...commands.slice(0, fromCommands), ...tests.slice(0, max - fromCommands)];
}
