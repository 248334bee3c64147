import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as ecr from "aws-cdk-lib/aws-ecr";
import type { Construct } from "constructs";

/** Days a cached install stays in the fleet cache after its push; a later job installs again. */
export const CACHE_IMAGE_DAYS = 30;
/** Forks' installs (tags `untrusted-…`) go sooner: nothing trusted reads them. */
export const UNTRUSTED_CACHE_IMAGE_DAYS = 7;

/**
 * The fleet's install cache (KOZMIC_CACHE_REGISTRY): one ECR repository, tags
 * `<scope>-<repository>-<key>`. A cache only: images expire by the lifecycle policy (a
 * missing image is a miss, and the next job pushes it again), and the repository is
 * emptied and deleted with the stack.
 */
export function cacheRepository(scope: Construct, id: string): ecr.Repository {
  return new ecr.Repository(scope, id, {
    imageTagMutability: ecr.TagMutability.MUTABLE,
    removalPolicy: RemovalPolicy.DESTROY,
    emptyOnDelete: true,
    lifecycleRules: [
      {
        rulePriority: 1,
        description: "Layers left by a replaced tag",
        tagStatus: ecr.TagStatus.UNTAGGED,
        maxImageAge: Duration.days(1),
      },
      {
        rulePriority: 2,
        description: "Forks' installs",
        tagStatus: ecr.TagStatus.TAGGED,
        tagPrefixList: ["untrusted-"],
        maxImageAge: Duration.days(UNTRUSTED_CACHE_IMAGE_DAYS),
      },
      {
        rulePriority: 3,
        description: "Every cached install",
        tagStatus: ecr.TagStatus.ANY,
        maxImageAge: Duration.days(CACHE_IMAGE_DAYS),
      },
    ],
  });
}
