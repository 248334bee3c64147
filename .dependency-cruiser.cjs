/**
 * Kozmic's layers, checked by `npm run check` and `npm test`. Imports run one way:
 *   src/core  <-  ports and adapters (store, queue, secrets, checks, metrics, settings), and
 *                 src/http, the HTTP transport (Node listener, Lambda events, the fixed 404)
 *             <-  runner/ and the app's parts (planner, github, web, setup, doctor, scaler)
 *             <-  entry points (src/cli, src/lambda.ts, src/scaler-lambda.ts)
 * A rule broken here names the import that crosses a layer: move the shared part down.
 */
const ENTRY = "^src/(cli/|lambda\\.ts$|scaler-lambda\\.ts$)";
const APP_PARTS = "^src/(planner|github|web|setup|doctor|scaler)/";
const ADAPTERS = "^src/(store|queue|secrets|checks|metrics|settings|http)/";

module.exports = {
  forbidden: [
    {
      name: "core-is-pure",
      comment: "src/core is pure logic: it imports nothing of Kozmic's outside src/core.",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: "^(src|runner)/", pathNot: "^src/core/" },
    },
    {
      name: "adapters-below-the-app",
      comment:
        "Ports, adapters and settings never import the runner, the app's parts or an entry point.",
      severity: "error",
      from: { path: ADAPTERS },
      to: { path: [ENTRY, APP_PARTS, "^runner/"] },
    },
    {
      name: "runner-not-the-app",
      comment:
        "The runner uses core, the ports and checks; never the webhook app, the pages, an entry point or the settings reader (its entry point hands it RunnerSettings, a src/core type).",
      severity: "error",
      from: { path: "^runner/" },
      to: { path: [ENTRY, APP_PARTS, "^src/settings/"] },
    },
    {
      name: "entry-points-on-top",
      comment: "Nothing imports an entry point (src/cli, src/lambda.ts) but another entry point.",
      severity: "error",
      from: { path: "^(src|runner)/", pathNot: ENTRY },
      to: { path: ENTRY },
    },
    {
      name: "no-circular",
      severity: "error",
      from: { path: "^(src|runner)/" },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
    },
  },
};
