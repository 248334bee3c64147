import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";
import { ARTIFACT_PREFIX } from "../../src/store/s3-artifacts.js";
import { GET_JOB_ARTIFACTS, LIST_JOB_ARTIFACTS, PUT_JOB_ARTIFACTS } from "./access.js";

/** The lifecycle rule that expires jobs' artifacts when their logs expire. */
export const ARTIFACT_EXPIRY_RULE = "artifacts-expire-with-the-logs";

/**
 * Jobs' artifacts (KOZMIC_ARTIFACT_BUCKET): objects `artifacts/<jobId>/<name>`
 * (src/store/s3-artifacts.ts), put by the runner hosts, listed and read by the log pages.
 * Private (every public access blocked, ACLs off: the bucket owns every object), S3-managed
 * encryption, TLS only, and each object expires `retentionDays` after it was put: the log
 * retention, so a job's files go with its log.
 *
 * Kept when the stack is deleted, like the table, since it holds what builds produced
 * (objects still expire by the rule), with its TLS-only policy. It has no fixed name: CloudFormation makes one up, so a
 * stack deployed again after a delete makes a new bucket beside the kept one and never
 * collides with its name.
 */
export function artifactBucket(scope: Construct, id: string, retentionDays: number): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [
      {
        id: ARTIFACT_EXPIRY_RULE,
        prefix: ARTIFACT_PREFIX,
        expiration: Duration.days(retentionDays),
        // The adapter puts each file in one request; an upload some other client left
        // unfinished is not kept past a day either.
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
  });
  // The TLS-only policy stays on the kept bucket too.
  bucket.policy?.applyRemovalPolicy(RemovalPolicy.RETAIN);
  Validations.of(bucket).acknowledge({
    id: "AwsSolutions-S1",
    reason:
      "No server access logs: the bucket is private, only this stack's runner hosts put objects and only its webhook function reads them, each by its own role; an account that must record object access can turn on CloudTrail data events, without a second bucket to keep and expire",
  });
  return bucket;
}

/** `artifacts/*`: the objects the adapter writes and reads, nothing else in the bucket. */
const objects = (bucket: s3.IBucket) => bucket.arnForObjects(`${ARTIFACT_PREFIX}*`);

/**
 * What the log pages call (src/store/s3-artifacts.ts `list` and `get`): ListObjectsV2,
 * authorised by s3:ListBucket on the bucket, only under `artifacts/`; GetObject on its objects.
 */
export function artifactReadStatements(bucket: s3.IBucket): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      effect: iam.Effect.ALLOW,
      actions: LIST_JOB_ARTIFACTS,
      resources: [bucket.bucketArn],
      conditions: { StringLike: { "s3:prefix": [`${ARTIFACT_PREFIX}*`] } },
    }),
    new iam.PolicyStatement({
      effect: iam.Effect.ALLOW,
      actions: GET_JOB_ARTIFACTS,
      resources: [objects(bucket)],
    }),
  ];
}

/** What the runner calls (src/store/s3-artifacts.ts `put`): PutObject under `artifacts/`. */
export function artifactWriteStatements(bucket: s3.IBucket): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      effect: iam.Effect.ALLOW,
      actions: PUT_JOB_ARTIFACTS,
      resources: [objects(bucket)],
    }),
  ];
}

/** cdk-nag's AwsSolutions-IAM5 finding on `<bucket>/artifacts/*`, acknowledged on `role`. */
export function acknowledgeArtifactObjects(role: Construct, bucket: s3.Bucket): void {
  const logicalId = Stack.of(bucket).resolve(
    (bucket.node.defaultChild as CfnElement).logicalId,
  ) as string;
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${ARTIFACT_PREFIX}*]`,
    reason:
      "Jobs' artifacts are objects artifacts/<jobId>/<name>, made as jobs run: the role may reach the objects under that prefix only",
  });
}
