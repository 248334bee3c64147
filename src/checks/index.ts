export * from "./check-run-output.js";
export * from "./checks-reporter.js";
export * from "./create-installation-octokit.js";
