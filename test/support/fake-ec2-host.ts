import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * What an EC2 Auto Scaling host sees, on 127.0.0.1: the instance metadata service (IMDSv2:
 * no token, no answer) whose `autoscaling/target-lifecycle-state` and `spot/instance-action`
 * a test changes, and the Auto Scaling calls a runner makes, CompleteLifecycleAction
 * (which moto does not model) and SetInstanceProtection, recorded.
 */
export class FakeEc2Host {
  readonly instanceId = `i-${randomUUID().replace(/-/g, "").slice(0, 17)}`;
  lifecycleState = "InService";
  spotAction: { action: string; time: string } | undefined;
  /** Metadata reads that came without a valid token (must stay empty). */
  readonly unauthorised: string[] = [];
  /** CompleteLifecycleAction calls, as the form fields they carried, and when. */
  readonly completed: { fields: Record<string, string>; at: number }[] = [];
  /** SetInstanceProtection calls: whether the host was protected from scale-in, in order. */
  readonly protections: { protected: boolean; fields: Record<string, string> }[] = [];
  private readonly tokens = new Set<string>();

  private constructor(
    private readonly metadataServer: Server,
    private readonly autoScalingServer: Server,
  ) {}

  static async start(): Promise<FakeEc2Host> {
    const metadata = createServer();
    const autoScaling = createServer();
    const host = new FakeEc2Host(metadata, autoScaling);
    metadata.on("request", (req, res) => host.metadata(req, res));
    autoScaling.on("request", (req, res) => void host.autoScaling(req, res));
    await Promise.all(
      [metadata, autoScaling].map(
        (server) => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)),
      ),
    );
    return host;
  }

  /** KOZMIC_INSTANCE_METADATA_URL */
  get metadataUrl(): string {
    return `http://127.0.0.1:${(this.metadataServer.address() as AddressInfo).port}`;
  }

  /** AWS_ENDPOINT_URL_AUTO_SCALING */
  get autoScalingUrl(): string {
    return `http://127.0.0.1:${(this.autoScalingServer.address() as AddressInfo).port}`;
  }

  private metadata(req: IncomingMessage, res: import("node:http").ServerResponse): void {
    if (req.method === "PUT" && req.url === "/latest/api/token") {
      if (!req.headers["x-aws-ec2-metadata-token-ttl-seconds"]) {
        res.writeHead(400).end();
        return;
      }
      const token = randomUUID();
      this.tokens.add(token);
      res.writeHead(200, { "content-type": "text/plain" }).end(token);
      return;
    }
    const token = req.headers["x-aws-ec2-metadata-token"];
    if (typeof token !== "string" || !this.tokens.has(token)) {
      this.unauthorised.push(req.url ?? "");
      res.writeHead(401).end();
      return;
    }
    const values: Record<string, string | undefined> = {
      "/latest/meta-data/instance-id": this.instanceId,
      "/latest/meta-data/autoscaling/target-lifecycle-state": this.lifecycleState,
      "/latest/meta-data/spot/instance-action": this.spotAction
        ? JSON.stringify(this.spotAction)
        : undefined,
    };
    const value = values[req.url ?? ""];
    if (value === undefined) res.writeHead(404).end();
    else res.writeHead(200, { "content-type": "text/plain" }).end(value);
  }

  private async autoScaling(
    req: IncomingMessage,
    res: import("node:http").ServerResponse,
  ): Promise<void> {
    let body = "";
    for await (const chunk of req) body += (chunk as Buffer).toString("utf8");
    const fields = Object.fromEntries(new URLSearchParams(body));
    const ns = "http://autoscaling.amazonaws.com/doc/2011-01-01/";
    if (fields.Action === "SetInstanceProtection") {
      this.protections.push({ protected: fields.ProtectedFromScaleIn === "true", fields });
      res
        .writeHead(200, { "content-type": "text/xml" })
        .end(
          `<SetInstanceProtectionResponse xmlns="${ns}"><SetInstanceProtectionResult/><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></SetInstanceProtectionResponse>`,
        );
      return;
    }
    if (fields.Action !== "CompleteLifecycleAction") {
      res
        .writeHead(400, { "content-type": "text/xml" })
        .end(
          `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>not faked: ${fields.Action}</Message></Error><RequestId>1</RequestId></ErrorResponse>`,
        );
      return;
    }
    this.completed.push({ fields, at: Date.now() });
    res
      .writeHead(200, { "content-type": "text/xml" })
      .end(
        `<CompleteLifecycleActionResponse xmlns="${ns}"><CompleteLifecycleActionResult/><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></CompleteLifecycleActionResponse>`,
      );
  }

  async close(): Promise<void> {
    for (const server of [this.metadataServer, this.autoScalingServer]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
