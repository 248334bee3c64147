/** The runner's settings are read in src/settings; these names stay for their importers. */
export {
  readAppCredentials,
  readRunnerSettings,
  type AppCredentials,
  type RunnerSettings,
} from "../../src/settings/index.js";
