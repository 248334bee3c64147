import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as an AWS JSON 1.1 service sees it. */
export interface AwsJsonCall {
  /** `X-Amz-Target`, e.g. `TrentService.Encrypt`. */
  target: string | undefined;
  contentType: string | undefined;
  /** Signed with SigV4, as AWS requires. */
  signed: boolean;
  text: string;
}

/**
 * The HTTP side of a local stand-in for an AWS service that speaks the JSON 1.1 protocol
 * (Secrets Manager, KMS): on 127.0.0.1, each request's body read whole and answered with
 * what `answer` returns, as `application/x-amz-json-1.1`.
 */
export class AwsJsonServer {
  private constructor(private readonly server: Server) {}

  static async start(
    answer: (call: AwsJsonCall) => { status: number; body: unknown },
  ): Promise<AwsJsonServer> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const { status, body } = answer({
          target: req.headers["x-amz-target"] as string | undefined,
          contentType: req.headers["content-type"],
          signed: /^AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization ?? ""),
          text: Buffer.concat(chunks).toString("utf8"),
        });
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new AwsJsonServer(server);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
