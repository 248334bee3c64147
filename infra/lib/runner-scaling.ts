import { Aws, CfnCondition, CfnResource, Duration, Validations } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { allow, DESCRIBE_GROUPS, READ_DEPTH, SCALE_GROUP, WRITE_LOGS } from "./access.js";
import { LAMBDA_RUNTIME } from "./app-functions.js";
import type { KozmicQueues } from "./queues.js";

export interface RunnerScalingProps {
  /** Directory with the scaler bundle, `index.mjs` exporting `scaleHandler`. */
  scalerCode: string;
  queues: KozmicQueues;
  /** The runner group's name (it is named, so the hosts and this role can know it). */
  groupName: string;
  /** KOZMIC_RUNNER_CONCURRENCY as the stack's parameter has it ("" : the scaler assumes 2). */
  slotsPerHost: string;
  idleMinutes: string;
  /** The RunnerOnDemandPercent parameter: below 100 the scaler falls back to on-demand while spot is short. */
  onDemandPercent: string;
  /** Made only with the runner group (a VPC given). */
  hasNetwork: CfnCondition;
}

/** How often the scaler looks: the first job's host is asked for within this. */
export const SCALER_RATE = Duration.minutes(1);

/**
 * Scaling on the queue: a small function (src/scaler-lambda.ts) that EventBridge runs every
 * minute sets the runner group's desired capacity from the job queue's depth, the hosts'
 * slots and the group's maximum, and takes it back to the minimum once idle.
 */
export class RunnerScaling extends Construct {
  readonly scaler: lambda.Function;

  constructor(scope: Construct, id: string, props: RunnerScalingProps) {
    super(scope, id);
    const groupArn = `arn:${Aws.PARTITION}:autoscaling:${Aws.REGION}:${Aws.ACCOUNT_ID}:autoScalingGroup:*:autoScalingGroupName/${props.groupName}`;
    const scalerLogs = new logs.LogGroup(this, "ScalerLogs", {
      retention: logs.RetentionDays.ONE_MONTH,
    });
    const role = new iam.Role(this, "ScalerRole", {
      description: "Runs the Kozmic scaler function",
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      inlinePolicies: {
        Kozmic: new iam.PolicyDocument({
          statements: [
            allow(WRITE_LOGS, [scalerLogs.logGroupArn]),
            allow(READ_DEPTH, [props.queues.jobs.queue.queueArn]),
            allow(DESCRIBE_GROUPS, ["*"]),
            allow(SCALE_GROUP, [groupArn]),
          ],
        }),
      },
    });
    Validations.of(role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "autoscaling:DescribeAutoScalingGroups and DescribeScalingActivities only: Auto Scaling's Describe calls support no resource-level permission",
    });
    Validations.of(role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/<AWS::StackName>-runners]",
      reason:
        "SetDesiredCapacity, the on-demand share and the scaler's tags on this stack's runner group only, by its name: the * is the id AWS gives the group",
    });
    this.scaler = new lambda.Function(this, "Scaler", {
      description: "Kozmic: sizes the runner hosts' group by the job queue",
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: "index.scaleHandler",
      code: lambda.Code.fromAsset(props.scalerCode),
      memorySize: 256,
      timeout: Duration.seconds(30),
      // One decision at a time: two runs at once could both start hosts for the same jobs.
      reservedConcurrentExecutions: 1,
      logGroup: scalerLogs,
      role,
      environment: {
        KOZMIC_QUEUE_URL: props.queues.jobs.queue.queueUrl,
        KOZMIC_AUTO_SCALING_GROUP: props.groupName,
        KOZMIC_RUNNER_CONCURRENCY: props.slotsPerHost,
        KOZMIC_IDLE_MINUTES: props.idleMinutes,
        KOZMIC_ON_DEMAND_PERCENT: props.onDemandPercent,
      },
    });
    new events.Rule(this, "Schedule", {
      description: "Runs the Kozmic scaler",
      schedule: events.Schedule.rate(SCALER_RATE),
      targets: [new targets.LambdaFunction(this.scaler, { retryAttempts: 0 })],
    });
    for (const child of this.node.findAll()) {
      if (child instanceof CfnResource) child.cfnOptions.condition = props.hasNetwork;
    }
  }
}
