/** The pipeline's settings are read in src/settings; this name stays for its importers. */
export { readPipelineSettings as settingsFromEnv } from "../../src/settings/index.js";
