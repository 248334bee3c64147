import { cliRunTests } from "./cli-run-cases.js";

// Each `kozmic run` in its own process (KOZMIC_RUN_SERVER=off).
cliRunTests("in-process");
