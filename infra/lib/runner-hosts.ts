import { Aws, CfnCondition, Fn, Token, Validations } from "aws-cdk-lib";
import * as autoscaling from "aws-cdk-lib/aws-autoscaling";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as ecr from "aws-cdk-lib/aws-ecr";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import * as s3assets from "aws-cdk-lib/aws-s3-assets";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import {
  acknowledgeTableIndexes,
  allow,
  HOST_GROUP_ACTIONS,
  CONSUME,
  ECR_PULL,
  ECR_PUSH,
  ECR_TOKEN,
  KMS_UNWRAP,
  READ_REDRIVE,
  READ_ARTIFACT,
  READ_SECRET,
  REPORT_HEALTH,
  SEND,
  SHIP_LOGS,
  TABLE_ACTIONS,
} from "./access.js";
import { acknowledgeArtifactObjects, artifactWriteStatements } from "./artifact-bucket.js";
import type { KozmicQueues } from "./queues.js";
import type { RunnerArtifactFile } from "./runner-artifact.js";
import { runnerUserData } from "./runner-user-data.js";

/** The runner group's termination lifecycle hook (the runner's KOZMIC_LIFECYCLE_HOOK default). */
export const DRAIN_HOOK = "kozmic-drain";

/** The keys of the runner hosts' own secret, which their boot reads. */
export const RUNNER_SECRET_KEYS = ["PRIVATE_KEY", "KOZMIC_CACHE_REGISTRY_KEY"];

export interface RunnerHostsProps {
  queues: KozmicQueues;
  table: dynamodb.Table;
  /** The hosts' own secret (RUNNER_SECRET_KEYS), the one secret they may read. */
  secret: secretsmanager.ISecret;
  /** Unwraps repositories' data keys, so jobs get the secrets their hooks name. */
  secretsKey: kms.IKey;
  /** The fleet's install cache: the hosts pull from it and push to it, and nowhere else. */
  cacheRepository: ecr.IRepository;
  /** Jobs' artifacts (KOZMIC_ARTIFACT_BUCKET): the hosts put them, and never read them back. */
  artifactBucket: s3.Bucket;
  /** infra/runner/kozmic-runner.service, installed as it is. */
  unit: string;
  /** infra/runner/runner.env.example, filled in with `environment`. */
  envExample: string;
  /** The runner's settings besides the queues and table (APP_ID, KOZMIC_PUBLIC_URL, ...). */
  environment: Record<string, string>;
  imageId: string;
  /** The group's instance types, first choice first; an empty one (a parameter left empty) is left out. */
  instanceTypes: [string, ...string[]];
  volumeGiB: number;
  /** Numbers as CloudFormation takes them for an Auto Scaling group (parameters' strings). */
  minCount: string;
  maxCount: string;
  /** Hosts always on-demand, and the percent on-demand above them (the rest is spot). */
  onDemandBase: string;
  onDemandPercent: string;
  /** The termination lifecycle hook's timeout: how long a leaving host may drain. */
  drainSeconds: string;
  vpcId: string;
  subnetIds: string[];
  artifact: RunnerArtifactFile;
  /** KOZMIC_NETWORK: the Docker network jobs' containers join. */
  jobsNetwork: string;
  /** Whether a network was given: the launch template, group and security group need one. */
  hasNetwork: CfnCondition;
}

/**
 * Runner hosts: a role and instance profile that may do what `kozmic runner` does, and,
 * once a VPC is given, a launch template and Auto Scaling group (spot and on-demand across
 * several instance types, sized by ./runner-scaling.ts) whose instances boot into the
 * runner under systemd and drain through a lifecycle hook before they go.
 */
export class RunnerHosts extends Construct {
  readonly role: iam.Role;
  readonly instanceProfile: iam.CfnInstanceProfile;
  readonly group: autoscaling.CfnAutoScalingGroup;
  /** The group's name, known before it exists (the hosts' settings and the scaler's role name it). */
  readonly groupName: string;

  constructor(scope: Construct, id: string, props: RunnerHostsProps) {
    super(scope, id);
    const { queues, table, secret, cacheRepository } = props;
    this.groupName = `${Aws.STACK_NAME}-runners`;
    const groupArn = `arn:${Aws.PARTITION}:autoscaling:${Aws.REGION}:${Aws.ACCOUNT_ID}:autoScalingGroup:*:autoScalingGroupName/${this.groupName}`;
    const artifact = new s3assets.Asset(this, "Artifact", { path: props.artifact.path });
    const bootLogs = new logs.LogGroup(this, "BootLogs", {
      retention: logs.RetentionDays.ONE_MONTH,
    });
    const runnerLogs = new logs.LogGroup(this, "RunnerLogs", {
      retention: logs.RetentionDays.ONE_MONTH,
    });
    this.role = new iam.Role(this, "Role", {
      description: "Kozmic runner hosts: jobs and planning from the queues, the store",
      assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com"),
      inlinePolicies: {
        Kozmic: new iam.PolicyDocument({
          statements: [
            // The runner's jobs; the planner in every runner sends the jobs it plans.
            allow([...CONSUME, ...SEND, ...READ_REDRIVE], [queues.jobs.queue.queueArn]),
            // Planning messages are received, delayed and deleted by a runner, and sent by its
            // schedule timer (a schedule's tick); `kozmic doctor` on a host reads the planning
            // queue's redrive policy too.
            allow([...CONSUME, ...SEND, ...READ_REDRIVE], [queues.plans.queue.queueArn]),
            // A malformed body is moved to its dead-letter queue by the queue adapter.
            allow(SEND, [queues.jobs.deadLetters.queueArn, queues.plans.deadLetters.queueArn]),
            allow(TABLE_ACTIONS, [table.tableArn, `${table.tableArn}/index/*`]),
            // The boot script reads the App's private key from the hosts' own secret.
            allow(READ_SECRET, [secret.secretArn]),
            // The fleet install cache (KOZMIC_CACHE_REGISTRY): its token, then this one repository.
            allow(ECR_TOKEN, ["*"]),
            allow([...ECR_PULL, ...ECR_PUSH], [cacheRepository.repositoryArn]),
            // Repository secrets for jobs: unwrap only (the pages set them).
            allow(KMS_UNWRAP, [props.secretsKey.keyArn]),
            // Jobs' artifacts, put as each job ends.
            ...artifactWriteStatements(props.artifactBucket),
            // The boot script: the runner artifact, then the host's logs, and a failed
            // boot reported on this stack's groups only.
            allow(READ_ARTIFACT, [artifact.bucket.arnForObjects(artifact.s3ObjectKey)]),
            allow(SHIP_LOGS, [bootLogs.logGroupArn, runnerLogs.logGroupArn]),
            // A drained host lets the group terminate it (runner/host/lifecycle-action.ts).
            allow(HOST_GROUP_ACTIONS, [groupArn]),
            allow(REPORT_HEALTH, [
              `arn:${Aws.PARTITION}:autoscaling:${Aws.REGION}:${Aws.ACCOUNT_ID}:autoScalingGroup:*:autoScalingGroupName/${Aws.STACK_NAME}-*`,
            ]),
          ],
        }),
      },
    });
    acknowledgeTableIndexes(this.role, table);
    acknowledgeArtifactObjects(this.role, props.artifactBucket);
    Validations.of(this.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "ecr:GetAuthorizationToken only: the registry's token names no repository, and AWS authorises it on * alone",
    });
    Validations.of(this.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/<AWS::StackName>-*]",
      reason:
        "autoscaling:SetInstanceHealth on this stack's groups: the group's own ARN would make the role depend on the group that launches with it (a cycle), and its id part is made by AWS",
    });
    Validations.of(this.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/<AWS::StackName>-runners]",
      reason:
        "autoscaling:CompleteLifecycleAction on this stack's runner group only, by its name: the * is the id AWS gives the group, and the group's own ARN would make the role depend on the group that launches with it (a cycle)",
    });
    this.instanceProfile = new iam.CfnInstanceProfile(this, "InstanceProfile", {
      roles: [this.role.roleName],
    });

    const securityGroup = new ec2.CfnSecurityGroup(this, "SecurityGroup", {
      groupDescription:
        "Kozmic runner hosts: no inbound traffic; outbound to GitHub, AWS and registries",
      vpcId: props.vpcId,
      securityGroupEgress: [
        {
          ipProtocol: "-1",
          cidrIp: "0.0.0.0/0",
          description: "Git, registries, GitHub and AWS APIs",
        },
      ],
    });
    securityGroup.cfnOptions.condition = props.hasNetwork;

    const userData = runnerUserData(props.unit, props.envExample, {
      environment: {
        ...props.environment,
        AWS_REGION: Aws.REGION,
        KOZMIC_QUEUE_URL: queues.jobs.queue.queueUrl,
        KOZMIC_DEAD_LETTER_QUEUE_URL: queues.jobs.deadLetters.queueUrl,
        KOZMIC_PLAN_QUEUE_URL: queues.plans.queue.queueUrl,
        KOZMIC_TABLE: table.tableName,
        KOZMIC_CACHE_REGISTRY: cacheRepository.repositoryUri,
        KOZMIC_KMS_KEY_ID: props.secretsKey.keyArn,
        KOZMIC_ARTIFACT_BUCKET: props.artifactBucket.bucketName,
        KOZMIC_NETWORK: props.jobsNetwork,
        // Draining before the host goes (docs/runner.md).
        KOZMIC_AUTO_SCALING_GROUP: this.groupName,
        KOZMIC_LIFECYCLE_HOOK: DRAIN_HOOK,
        KOZMIC_DRAIN_TIME: props.drainSeconds,
      },
      secretArn: secret.secretArn,
      region: Aws.REGION,
      artifact: {
        s3Url: artifact.s3ObjectUrl,
        sha256: props.artifact.sha256,
        machine: props.artifact.machine,
      },
      bootLogGroup: bootLogs.logGroupName,
      runnerLogGroup: runnerLogs.logGroupName,
    });
    const template = new ec2.CfnLaunchTemplate(this, "LaunchTemplate", {
      launchTemplateData: {
        imageId: props.imageId,
        instanceType: props.instanceTypes[0],
        iamInstanceProfile: { arn: this.instanceProfile.attrArn },
        securityGroupIds: [securityGroup.attrGroupId],
        userData: Fn.base64(userData),
        metadataOptions: {
          httpTokens: "required",
          // One hop: the host reaches the instance metadata, a job's container (one hop
          // further, through Docker's bridge) cannot take the host's role credentials.
          httpPutResponseHopLimit: 1,
        },
        blockDeviceMappings: [
          {
            deviceName: "/dev/xvda",
            ebs: {
              volumeSize: props.volumeGiB,
              volumeType: "gp3",
              encrypted: true,
              deleteOnTermination: true,
            },
          },
        ],
        tagSpecifications: [
          { resourceType: "instance", tags: [{ key: "Name", value: "kozmic-runner" }] },
        ],
      },
    });
    template.cfnOptions.condition = props.hasNetwork;

    // Each further instance type only when its parameter is not empty.
    const overrides = props.instanceTypes.map((type, i) => {
      if (i === 0) return { instanceType: type };
      const given = new CfnCondition(this, `HasInstanceType${i + 1}`, {
        expression: Fn.conditionNot(Fn.conditionEquals(type, "")),
      });
      return Fn.conditionIf(given.logicalId, { InstanceType: type }, Aws.NO_VALUE);
    });
    this.group = new autoscaling.CfnAutoScalingGroup(this, "Group", {
      autoScalingGroupName: this.groupName,
      // No desired capacity: the scaler (./runner-scaling.ts) sets it, and a stack update
      // must not reset it.
      minSize: props.minCount,
      maxSize: props.maxCount,
      vpcZoneIdentifier: props.subnetIds,
      mixedInstancesPolicy: {
        launchTemplate: {
          launchTemplateSpecification: {
            launchTemplateId: template.ref,
            version: template.attrLatestVersionNumber,
          },
          overrides,
        },
        instancesDistribution: {
          onDemandBaseCapacity: Token.asNumber(props.onDemandBase),
          onDemandPercentageAboveBaseCapacity: Token.asNumber(props.onDemandPercent),
          // Spot from the pools least likely to be interrupted, at a low price; a type
          // without spot capacity is skipped for the next one.
          spotAllocationStrategy: "price-capacity-optimized",
          onDemandAllocationStrategy: "prioritized",
        },
      },
      // A spot host at risk is replaced before it is taken back; the old one drains.
      capacityRebalance: true,
      // Scale-in, replacement, rebalancing and instance refresh all wait here while the
      // host's runner drains (runner/host/drain-host.ts), which then completes the action;
      // CONTINUE: a host whose runner died still goes at the timeout.
      lifecycleHookSpecificationList: [
        {
          lifecycleHookName: DRAIN_HOOK,
          lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
          heartbeatTimeout: Token.asNumber(props.drainSeconds),
          defaultResult: "CONTINUE",
        },
      ],
    });
    this.group.cfnOptions.condition = props.hasNetwork;
    Validations.of(this.group).acknowledge({
      id: "AwsSolutions-EC26",
      reason:
        "The launch template's root volume is encrypted (gp3, encrypted: true, checked by the stack test); the rule does not follow a mixed instances policy to its launch template",
    });
    Validations.of(this.group).acknowledge({
      id: "AwsSolutions-AS3",
      reason:
        "Hosts start and stop with every burst of jobs (scaling to zero): a notice per launch and termination would bury the dead-letter alarms on the same topic; a failed boot marks its host unhealthy and its log is in CloudWatch Logs",
    });
    // A new launch template version replaces the hosts one at a time; each drains through
    // the lifecycle hook first (its jobs finish or go back to the queue).
    this.group.cfnOptions.updatePolicy = {
      autoScalingRollingUpdate: { maxBatchSize: 1, minInstancesInService: 0 },
    };
  }
}
