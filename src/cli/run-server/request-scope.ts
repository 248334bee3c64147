import type { RunRequest } from "./frames.js";

/** Where a request's output goes: each call's callback once the bytes are on their way. */
export interface RequestOutput {
  stdout(bytes: Buffer, done: () => void): void;
  stderr(bytes: Buffer, done: () => void): void;
}

type Write = NodeJS.WriteStream["write"];

/**
 * Makes this process look, to the command it is about to run, like the client's: the
 * client's environment (replacing this one's), directory and umask, and standard output and
 * error sent to the client. Returns what puts this process's own back. One request at a
 * time: these are process-wide. Throws, with nothing changed, when the directory cannot be
 * entered.
 */
export function enterRequest(request: RunRequest, output: RequestOutput): () => void {
  const own = {
    env: { ...process.env },
    cwd: process.cwd(),
    stdout: process.stdout.write,
    stderr: process.stderr.write,
  };
  process.chdir(request.cwd);
  const umask = process.umask(request.umask);
  replaceEnv(request.env);
  process.stdout.write = writerTo(output.stdout);
  process.stderr.write = writerTo(output.stderr);
  return () => {
    process.stdout.write = own.stdout;
    process.stderr.write = own.stderr;
    replaceEnv(own.env);
    process.umask(umask);
    process.chdir(own.cwd);
  };
}

function replaceEnv(env: Record<string, string | undefined>): void {
  for (const name of Object.keys(process.env)) delete process.env[name];
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) process.env[name] = value;
  }
}

/** A stream's `write`, in all its forms, sending the bytes to `send`. */
function writerTo(send: (bytes: Buffer, done: () => void) => void): Write {
  return ((
    chunk: string | Uint8Array,
    encodingOrDone?: BufferEncoding | ((error?: Error | null) => void),
    done?: (error?: Error | null) => void,
  ): boolean => {
    const callback = typeof encodingOrDone === "function" ? encodingOrDone : done;
    const encoding = typeof encodingOrDone === "string" ? encodingOrDone : "utf8";
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, encoding) : Buffer.from(chunk);
    send(bytes, () => callback?.(null));
    return true;
  }) as Write;
}
