#!/usr/bin/env node
// Runs the bundled CLI (dist/cli/, made by `npm run build`), or the compiled files beside it
// (dist/src/). In a checkout without a build, runs the TypeScript source through tsx
// instead (slower to start: it compiles as it goes).
import { existsSync, lstatSync, mkdirSync } from "node:fs";
import module from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";

enableCompileCache();

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

/**
 * Node's compile cache (Node.js 22.1 and later; Node 20 has none, and this does nothing
 * there): V8's compiled code for the modules a command loads is kept on disk and reused by
 * the next command, which then loads `kozmic run`'s modules about a fifth faster. The cache
 * is this user's own (~/.cache/kozmic/node-compile-cache, or under $XDG_CACHE_HOME), not
 * Node's default in the shared temporary directory, where another account could leave code
 * for this one to run. It stays off when that directory cannot be made or is not private to
 * this user, and when NODE_COMPILE_CACHE (Node then has it on already, in that directory)
 * or NODE_DISABLE_COMPILE_CACHE is set. Never fails the command.
 */
function enableCompileCache() {
  if (typeof module.enableCompileCache !== "function") return;
  if (process.env.NODE_COMPILE_CACHE || process.env.NODE_DISABLE_COMPILE_CACHE) return;
  try {
    const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
    const dir = join(base, "kozmic", "node-compile-cache");
    // One level at a time: a recursive mkdir never returns on some paths (under /proc).
    for (const path of [base, join(base, "kozmic"), dir]) {
      try {
        mkdirSync(path, { mode: 0o700 });
      } catch (error) {
        if (error.code !== "EEXIST") return;
      }
    }
    for (const path of [join(base, "kozmic"), dir]) {
      const stat = lstatSync(path);
      const uid = process.getuid?.();
      if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || stat.mode & 0o022) {
        return;
      }
    }
    module.enableCompileCache(dir);
  } catch {
    // No cache: the command runs as it would without one.
  }
}
