// `node --import ./test/support/loaded-modules.mjs …` with RECORD_LOADED_MODULES=<file> (not
// a KOZMIC_ name: kozmic run keys what it keeps on those):
// writes to that file, one a line, every module the process loaded: the URL of each ES
// module it resolved (as it resolves it) and, when it exits, the path of each CommonJS
// module (require() inside CommonJS packages never reaches ES module hooks on Node 20).
// Plain JavaScript: it runs in front of the compiled CLI, without tsx.
import { appendFileSync, writeFileSync } from "node:fs";
import { createRequire, register } from "node:module";
import { isMainThread } from "node:worker_threads";

const out = process.env.RECORD_LOADED_MODULES;
if (isMainThread && out) {
  writeFileSync(out, "");
  // This same file, in the module loader's thread, is the hook that records resolutions.
  register(import.meta.url, { data: { out } });
  const require = createRequire(import.meta.url);
  process.on("exit", () => {
    appendFileSync(
      out,
      Object.keys(require.cache)
        .map((path) => `${path}\n`)
        .join(""),
    );
  });
}

let file;

export function initialize(data) {
  file = data.out;
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  appendFileSync(file, `${result.url}\n`);
  return result;
}
