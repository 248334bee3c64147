import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { AwsJsonServer } from "./aws-json-server.js";

export interface KmsRequest {
  target: string | undefined;
  signed: boolean;
  body: Record<string, unknown>;
}

/**
 * A stand-in for AWS KMS on 127.0.0.1 (no emulator exists here): Encrypt and Decrypt of a
 * symmetric key over the AWS JSON 1.1 protocol, as the SDK speaks it with its endpoint
 * pointed here. Ciphertexts are really sealed (AES-256-GCM under a key only this process
 * holds) and bound to the key and the encryption context, so Decrypt fails as KMS does
 * (InvalidCiphertextException) for another context or key. `down` answers 503 to everything.
 */
export class FakeKms {
  readonly requests: KmsRequest[] = [];
  down = false;
  private readonly master = randomBytes(32);
  private http!: AwsJsonServer;

  private constructor(
    /** The key's ARN; its alias and bare id name it too. */
    readonly keyArn: string,
    private readonly names: ReadonlySet<string>,
  ) {}

  static async start(alias = "alias/kozmic-secrets"): Promise<FakeKms> {
    const id = "1234abcd-12ab-34cd-56ef-1234567890ab";
    const arn = `arn:aws:kms:eu-west-1:111122223333:key/${id}`;
    const fake = new FakeKms(arn, new Set([arn, id, alias]));
    fake.http = await AwsJsonServer.start((call) =>
      fake.answer(call.target, call.contentType, call.signed, call.text),
    );
    return fake;
  }

  get url(): string {
    return this.http.url;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private answer(
    target: string | undefined,
    contentType: string | undefined,
    signed: boolean,
    text: string,
  ): { status: number; body: unknown } {
    const error = (type: string, message: string, status = 400) => ({
      status,
      body: { __type: type, message },
    });
    if (this.down) return error("KMSInternalException", "Service Unavailable", 503);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return error("SerializationException", "body is not JSON");
    }
    this.requests.push({ target, signed, body });
    if (contentType !== "application/x-amz-json-1.1") {
      return error("SerializationException", `content type ${contentType}`);
    }
    if (!signed) return error("MissingAuthenticationTokenException", "request is not signed");
    const context = JSON.stringify(
      Object.entries((body.EncryptionContext ?? {}) as Record<string, string>).sort(),
    );
    if (target === "TrentService.Encrypt") {
      if (!this.names.has(body.KeyId as string)) return error("NotFoundException", "no such key");
      const nonce = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", this.master, nonce);
      cipher.setAAD(Buffer.from(context));
      const sealed = Buffer.concat([
        nonce,
        cipher.update(Buffer.from(body.Plaintext as string, "base64")),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return {
        status: 200,
        body: {
          CiphertextBlob: sealed.toString("base64"),
          KeyId: this.keyArn,
          EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
        },
      };
    }
    if (target === "TrentService.Decrypt") {
      if (body.KeyId !== undefined && !this.names.has(body.KeyId as string)) {
        return error("IncorrectKeyException", "the ciphertext was not encrypted under this key");
      }
      const raw = Buffer.from(body.CiphertextBlob as string, "base64");
      try {
        const decipher = createDecipheriv("aes-256-gcm", this.master, raw.subarray(0, 12));
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(raw.subarray(raw.length - 16));
        const plain = Buffer.concat([
          decipher.update(raw.subarray(12, raw.length - 16)),
          decipher.final(),
        ]);
        return {
          status: 200,
          body: {
            Plaintext: plain.toString("base64"),
            KeyId: this.keyArn,
            EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
          },
        };
      } catch {
        return error("InvalidCiphertextException", "");
      }
    }
    return error("UnknownOperationException", `unknown operation ${target}`);
  }
}
