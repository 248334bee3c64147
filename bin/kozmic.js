#!/usr/bin/env node
// Runs the bundled CLI (dist/cli/, made by `npm run build`), or the compiled files beside it
// (dist/src/). In a checkout without a build, runs the TypeScript source through tsx
// instead (slower to start: it compiles as it goes).
import { existsSync } from "node:fs";

const bundled = new URL("../dist/cli/main.js", import.meta.url);
const compiled = new URL("../dist/src/cli/main.js", import.meta.url);
if (existsSync(bundled)) {
  await import(bundled.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/main.ts");
}
