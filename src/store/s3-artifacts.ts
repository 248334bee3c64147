import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { exactly, isArtifactKey, type ArtifactEntry, type ArtifactStore } from "./artifact-port.js";
import { MAX_LISTED } from "./embedded-artifacts.js";

/** Where artifacts live in the bucket; the stack's grants and lifecycle rule name it too. */
export const ARTIFACT_PREFIX = "artifacts/";

/**
 * Artifacts as objects `artifacts/<jobId>/<name>` of an S3 bucket. Their expiry is the
 * bucket's lifecycle rule (infra: the log retention), not this code's.
 */
export class S3Artifacts implements ArtifactStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(jobId: string, name: string, body: Readable, size: number): Promise<void> {
    if (!isArtifactKey(jobId, name))
      throw new Error(`not an artifact name: ${JSON.stringify(name)}`);
    // The body is fed apart so that a file that is not `size` bytes aborts the upload (the
    // request would otherwise wait for the bytes promised) and is the error put rejects with.
    const feed = new PassThrough();
    const abort = new AbortController();
    let failure: unknown;
    const pump = pipeline(exactly(body, size), feed).catch((error: unknown) => {
      failure = error;
      abort.abort();
    });
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: `${ARTIFACT_PREFIX}${jobId}/${name}`,
          Body: feed,
          ContentLength: size,
          ContentType: "application/octet-stream",
        }),
        { abortSignal: abort.signal },
      );
    } catch (error) {
      await pump;
      throw failure ?? error;
    }
    await pump;
    if (failure) throw failure;
  }

  async list(jobId: string): Promise<ArtifactEntry[]> {
    if (!isArtifactKey(jobId, "x")) return [];
    const prefix = `${ARTIFACT_PREFIX}${jobId}/`;
    const files: ArtifactEntry[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (files.length < MAX_LISTED && object.Key)
          files.push({ name: object.Key.slice(prefix.length), size: object.Size ?? 0 });
      }
      token =
        page.IsTruncated && files.length < MAX_LISTED ? page.NextContinuationToken : undefined;
    } while (token);
    return files.sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(jobId: string, name: string): Promise<{ size: number; body: Readable } | undefined> {
    if (!isArtifactKey(jobId, name)) return undefined;
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: `${ARTIFACT_PREFIX}${jobId}/${name}` }),
      );
      return { size: object.ContentLength ?? 0, body: object.Body as Readable };
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }
}

/** The S3 store of a bucket, with a client of its own (AWS_ENDPOINT_URL_S3: a test's server). */
export function s3ArtifactsFrom(settings: {
  bucket: string;
  region: string;
  endpoint?: string;
}): S3Artifacts {
  const client = new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
    // A stream's checksum would need the whole body first; S3 checks the length.
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  return new S3Artifacts(client, settings.bucket);
}
