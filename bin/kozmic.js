#!/usr/bin/env node
// Runs the bundled CLI (dist/cli/, made by `npm run build`). In a checkout without a build,
// runs the TypeScript source through tsx instead (slower to start: it compiles as it goes).
//
// CommonJS (bin/package.json), not an ES module: Node starts an ES module entry a few ms
// later. The CLI itself is ES modules, loaded with import().
"use strict";
const { existsSync, lstatSync, mkdirSync } = require("node:fs");
const module_ = require("node:module");
const { homedir } = require("node:os");
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");

const dist = join(__dirname, "..", "dist");

async function main() {
  enableCompileCache();
  const bundled = join(dist, "cli", "main.js");
  if (existsSync(bundled)) {
    await import(pathToFileURL(bundled).href);
  } else {
    const { register } = await import("tsx/esm/api");
    register();
    await import(pathToFileURL(join(__dirname, "..", "src", "cli", "main.ts")).href);
  }
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
  if (typeof module_.enableCompileCache !== "function") return;
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
    module_.enableCompileCache(dir);
  } catch {
    // No cache: the command runs as it would without one.
  }
}

main().catch((error) => {
  // As Node reports an error thrown by a command's module: its stack, exit code 1.
  process.exitCode = 1;
  console.error(error);
});
