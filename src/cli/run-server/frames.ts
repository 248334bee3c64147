/**
 * The run server's wire format, both ways over its Unix socket: frames of one type byte, a
 * 4-byte big-endian length and that many bytes. Requests and replies are JSON; output is
 * the bytes the command wrote, as it wrote them.
 */

export const FRAME = {
  /** client → server: run this (RunRequest as JSON). */
  request: 0x71,
  /** client → server: the person asked to stop the run (Ctrl-C, SIGTERM). */
  cancel: 0x63,
  /** client → server: exit now (`kozmic run-server stop`). */
  stop: 0x73,
  /** server → client: the run has begun here; from now on it is not run anywhere else. */
  accepted: 0x61,
  /** server → client: bytes for standard output. */
  stdout: 0x6f,
  /** server → client: bytes for standard error. */
  stderr: 0x65,
  /** server → client: the command's exit code (JSON number); the last frame. */
  exit: 0x78,
  /** server → client: not served (busy, or the request cannot be run here); run it yourself. */
  declined: 0x64,
} as const;

export type FrameType = (typeof FRAME)[keyof typeof FRAME];

const TYPES = new Set<number>(Object.values(FRAME));
const HEADER = 5;

/** More than any environment or output chunk: a longer frame is a broken or hostile peer. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export interface Frame {
  type: FrameType;
  payload: Buffer;
}

/** What the client sends to have `kozmic run <argv>` run as if in its own process. */
export interface RunRequest {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  umask: number;
}

export class FrameError extends Error {}

export function encodeFrame(type: FrameType, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  if (body.length > MAX_FRAME_BYTES) throw new FrameError(`frame of ${body.length} bytes`);
  const header = Buffer.alloc(HEADER);
  header[0] = type;
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/** Output of any size, as frames no longer than the limit. */
export function encodeOutput(type: FrameType, bytes: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let at = 0; at < bytes.length || frames.length === 0; at += MAX_FRAME_BYTES) {
    frames.push(encodeFrame(type, bytes.subarray(at, at + MAX_FRAME_BYTES)));
  }
  return frames;
}

/** Frames from a stream's chunks, however they were split. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  /** The frames this chunk completes; a FrameError for an unknown type or a length over the limit. */
  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.pending.length >= HEADER) {
      const type = this.pending[0]!;
      const length = this.pending.readUInt32BE(1);
      if (!TYPES.has(type)) throw new FrameError(`unknown frame type 0x${type.toString(16)}`);
      if (length > MAX_FRAME_BYTES) throw new FrameError(`frame of ${length} bytes`);
      if (this.pending.length < HEADER + length) break;
      frames.push({
        type: type as FrameType,
        payload: this.pending.subarray(HEADER, HEADER + length),
      });
      this.pending = this.pending.subarray(HEADER + length);
    }
    return frames;
  }
}

/** A request frame's payload, checked: a FrameError says what is wrong with it. */
export function parseRunRequest(payload: Buffer): RunRequest {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    throw new FrameError("the request is not JSON");
  }
  const r = value as Partial<RunRequest> | null;
  const strings = (v: unknown): v is string[] =>
    Array.isArray(v) && v.every((s) => typeof s === "string");
  if (
    !r ||
    typeof r !== "object" ||
    !strings(r.argv) ||
    typeof r.cwd !== "string" ||
    !r.cwd.startsWith("/") ||
    !r.env ||
    typeof r.env !== "object" ||
    !Object.values(r.env).every((v) => typeof v === "string") ||
    !Number.isInteger(r.umask) ||
    r.umask! < 0 ||
    r.umask! > 0o777
  ) {
    throw new FrameError("the request lacks argv, an absolute cwd, env or umask");
  }
  return { argv: r.argv, cwd: r.cwd, env: r.env, umask: r.umask! };
}
