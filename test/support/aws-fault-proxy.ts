import {
  createServer,
  request as forward,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/** An error answer as the AWS service sends it (JSON 1.0 protocol). */
export interface AwsErrorReply {
  status: number;
  /** The error's `__type` (its name after the `#`). */
  type: string;
  message: string;
  headers?: Record<string, string>;
}

/** DynamoDB's two throttling answers, as DynamoDB sends them. */
export const DYNAMODB_THROTTLING: readonly AwsErrorReply[] = [
  {
    status: 400,
    type: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    message:
      "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
  },
  {
    status: 400,
    type: "com.amazon.coral.availability#ThrottlingException",
    message: "Rate of requests exceeds the allowed throughput.",
  },
];

/** SQS's server errors (JSON protocol, with the query-compatible error header). */
export const SQS_SERVER_ERRORS: readonly AwsErrorReply[] = [
  {
    status: 500,
    type: "com.amazonaws.sqs#InternalError",
    message: "We encountered an internal error. Please try again.",
    headers: { "x-amzn-query-error": "InternalError;Receiver" },
  },
  {
    status: 503,
    type: "com.amazonaws.sqs#ServiceUnavailable",
    message: "The request has failed due to a temporary failure of the server.",
    headers: { "x-amzn-query-error": "ServiceUnavailable;Receiver" },
  },
];

/** What the proxy saw of one request. */
export interface ProxiedCall {
  /** `X-Amz-Target`, e.g. `DynamoDB_20120810.UpdateItem`. */
  target: string;
  /** The SDK's own count (`amz-sdk-request: attempt=2; max=3`): 1 for a first try. */
  attempt: number;
  maxAttempts: number;
  /** Answered with an injected error instead of being forwarded. */
  failed: boolean;
}

/**
 * An HTTP proxy on 127.0.0.1 in front of an AWS service stand-in (DynamoDB Local,
 * ElasticMQ) that answers a `share` of requests itself with one of `errors` (in turn), so
 * that the real SDK's retry path runs. Any attempt may fail, a call's last one too: then
 * the call fails past the SDK's retries and the runner's own handling of a failed store or
 * queue call runs (at a share of 0.2 and 3 attempts, about one call in 125). The choice is
 * a seeded sequence.
 */
export class AwsFaultProxy {
  readonly calls: ProxiedCall[] = [];
  private seed = 0x2f6b_9a11;

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
    private readonly errors: readonly AwsErrorReply[],
    public share: number,
  ) {}

  static async start(
    upstream: string,
    errors: readonly AwsErrorReply[],
    share: number,
  ): Promise<AwsFaultProxy> {
    const server = createServer();
    const proxy = new AwsFaultProxy(server, new URL(upstream), errors, share);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => proxy.handle(req, res, Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Calls seen, injected failures and their first tries, optionally of one target only. */
  count(filter: (call: ProxiedCall) => boolean = () => true) {
    const calls = this.calls.filter(filter);
    return {
      all: calls.length,
      firstTries: calls.filter((c) => c.attempt === 1).length,
      failed: calls.filter((c) => c.failed).length,
      beyondPolicy: calls.filter((c) => c.attempt > c.maxAttempts).length,
      maxAttempt: Math.max(0, ...calls.map((c) => c.attempt)),
    };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const sdk = /attempt=(\d+); max=(\d+)/.exec(String(req.headers["amz-sdk-request"] ?? ""));
    const attempt = Number(sdk?.[1] ?? 1);
    const maxAttempts = Number(sdk?.[2] ?? 1);
    const failed = this.next() < this.share;
    this.calls.push({
      target: String(req.headers["x-amz-target"] ?? ""),
      attempt,
      maxAttempts,
      failed,
    });
    if (failed) {
      const error = this.errors[this.calls.length % this.errors.length]!;
      res.writeHead(error.status, {
        "content-type": "application/x-amz-json-1.0",
        "x-amzn-requestid": `fault-${this.calls.length}`,
        ...error.headers,
      });
      res.end(JSON.stringify({ __type: error.type, message: error.message }));
      return;
    }
    const out = forward(
      {
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", () => res.destroy());
    out.end(body);
  }

  /** A small seeded generator (mulberry32) in [0, 1). */
  private next(): number {
    let t = (this.seed = (this.seed + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
