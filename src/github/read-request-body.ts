import type { IncomingMessage } from "node:http";

/** A body refused while it was being read; the status says why. */
export class BodyError extends Error {
  override name = "BodyError";
  constructor(
    readonly status: 408 | 413 | 400,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a request body of at most `maxBytes`, within `timeoutMs` for the whole of it. A
 * body announced or found larger is refused with 413 as soon as that is known, so an
 * unsigned 1 GB post costs no memory; a body that trickles in is refused with 408.
 */
export function readRequestBody(
  req: IncomingMessage,
  options: { maxBytes: number; timeoutMs: number },
): Promise<Buffer> {
  const announced = Number(req.headers["content-length"]);
  if (Number.isFinite(announced) && announced > options.maxBytes) {
    return Promise.reject(tooLarge(options.maxBytes));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      req.off("data", onData).off("end", onEnd).off("error", onError).off("aborted", onAborted);
      if (error) {
        req.resume();
        reject(error);
      } else {
        resolve(Buffer.concat(chunks, size));
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBytes) finish(tooLarge(options.maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onError = (error: Error) =>
      finish(new BodyError(400, `reading the body failed: ${error.message}`));
    const onAborted = () => finish(new BodyError(400, "the client went away mid-body"));
    const timer = setTimeout(
      () =>
        finish(
          new BodyError(
            408,
            `the body did not arrive within ${Math.round(options.timeoutMs / 1000)} s`,
          ),
        ),
      options.timeoutMs,
    );
    req.on("data", onData).on("end", onEnd).on("error", onError).on("aborted", onAborted);
  });
}

function tooLarge(maxBytes: number): BodyError {
  return new BodyError(
    413,
    `the body is larger than ${Math.round(maxBytes / 1024 / 1024)} MB, GitHub's cap on webhook payloads`,
  );
}
