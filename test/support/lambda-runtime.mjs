// A stand-in for Lambda's Node.js runtime, in plain JavaScript so that it runs without tsx:
// `node lambda-runtime.mjs <bundle file>` imports the bundle (its init phase), then invokes
// handlers for the JSON lines on stdin, {"id", "handler", "event"}. On file descriptor 3 it
// writes {"imported": <milliseconds>, "exports"} once the import is done, then
// {"id", "result"} or {"id", "error"} for each invocation. Stdout and stderr stay the
// function's log, as on Lambda.
import { createWriteStream } from "node:fs";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const answers = createWriteStream("", { fd: 3 });
const send = (message) => answers.write(`${JSON.stringify(message)}\n`);

const started = performance.now();
const bundle = await import(pathToFileURL(process.argv[2]).href);
send({ imported: performance.now() - started, exports: Object.keys(bundle) });

for await (const line of createInterface({ input: process.stdin })) {
  const { id, handler, event } = JSON.parse(line);
  Promise.resolve()
    .then(() => bundle[handler](event))
    .then(
      (result) => send({ id, result }),
      (error) => send({ id, error: { name: error.name, message: error.message } }),
    );
}
