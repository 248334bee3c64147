#!/usr/bin/env node
// Runs the compiled CLI (dist/, made by `npm run build`). In a checkout without a build,
// runs the TypeScript source through tsx instead (slower to start: it compiles as it goes).
import { existsSync } from "node:fs";

const compiled = new URL("../dist/src/cli/main.js", import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/main.ts");
}
