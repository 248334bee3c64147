import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startTestRunServer, type TestRunServer } from "../support/run-server.js";
import { cliRunTests } from "./cli-run-cases.js";

// The same tests, each `kozmic run` handed to a run server that has the code loaded.
let server: TestRunServer;
before(async () => {
  server = await startTestRunServer();
});
after(() => server.stop());

cliRunTests("served");

test("the runs above were served by the run server", () => {
  // Two runs at once are one served and one declined (run in its own process).
  assert.ok(server.servedRuns() >= 20, server.log());
});
