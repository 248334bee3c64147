import { AwsJsonServer, type AwsJsonCall } from "./aws-json-server.js";

export interface SecretRequest {
  target: string | undefined;
  contentType: string | undefined;
  /** SigV4 signing, as AWS requires. */
  signed: boolean;
  body: unknown;
}

/**
 * A stand-in for AWS Secrets Manager on 127.0.0.1 (no emulator exists here): GetSecretValue
 * over the AWS JSON 1.1 protocol, as the SDK speaks it with
 * AWS_ENDPOINT_URL_SECRETS_MANAGER pointing here. Secrets are JSON strings by ARN; any
 * other id gets AWS's ResourceNotFoundException, any other operation
 * UnknownOperationException.
 */
export class FakeSecretsManager {
  readonly requests: SecretRequest[] = [];

  private http!: AwsJsonServer;

  private constructor(private readonly secrets: ReadonlyMap<string, string>) {}

  static async start(secrets: Record<string, string>): Promise<FakeSecretsManager> {
    const fake = new FakeSecretsManager(new Map(Object.entries(secrets)));
    fake.http = await AwsJsonServer.start((call) => fake.answer(call));
    return fake;
  }

  get url(): string {
    return this.http.url;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private answer(req: AwsJsonCall): { status: number; body: unknown } {
    let body: unknown;
    try {
      body = JSON.parse(req.text);
    } catch {
      body = req.text;
    }
    this.requests.push({
      target: req.target,
      contentType: req.contentType,
      signed: req.signed,
      body,
    });
    const error = (type: string, message: string) => ({
      status: 400,
      body: { __type: type, message },
    });
    if (req.target !== "secretsmanager.GetSecretValue") {
      return error("UnknownOperationException", `unknown operation ${req.target}`);
    }
    if (req.contentType !== "application/x-amz-json-1.1") {
      return error("SerializationException", `content type ${req.contentType}`);
    }
    if (!req.signed) return error("MissingAuthenticationTokenException", "request is not signed");
    const id = (body as { SecretId?: unknown } | undefined)?.SecretId;
    const secret = typeof id === "string" ? this.secrets.get(id) : undefined;
    if (typeof id !== "string" || secret === undefined) {
      return error("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
    }
    return {
      status: 200,
      body: {
        ARN: id,
        Name: id.split(":").at(-1),
        SecretString: secret,
        VersionId: "00000000-0000-4000-8000-000000000001",
        VersionStages: ["AWSCURRENT"],
        CreatedDate: 1_767_225_600,
      },
    };
  }
}
