import { RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";

/**
 * What the account may do with the key itself: administer it, and let IAM policies grant
 * the wrapping calls (a key policy must allow the account, or no IAM policy can). Named
 * action by action instead of CDK's default `kms:*`.
 */
const ACCOUNT_KEY_ACTIONS = [
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "kms:PutKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:EnableKeyRotation",
  "kms:DisableKeyRotation",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:UpdateKeyDescription",
  "kms:ListResourceTags",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:Encrypt",
  "kms:Decrypt",
];

/**
 * The KMS key that wraps each repository's data key (KOZMIC_KMS_KEY_ID,
 * src/secrets/kms-key-wrapper.ts). Kept when the stack goes (without it no secret can be
 * read again), rotated yearly by KMS (old versions still decrypt).
 */
export function secretsKey(scope: Construct, id: string): kms.Key {
  return new kms.Key(scope, id, {
    description: "Kozmic: wraps each repository's data key of repository secrets",
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
    policy: new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          principals: [new iam.AccountRootPrincipal()],
          actions: ACCOUNT_KEY_ACTIONS,
          resources: ["*"],
        }),
      ],
    }),
  });
}
