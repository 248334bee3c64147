import { CfnParameter } from "aws-cdk-lib";
import { Construct } from "constructs";

/** Amazon Linux 2023 for x86-64, by the public SSM parameter AWS keeps current. */
export const DEFAULT_RUNNER_IMAGE =
  "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

/**
 * The stack's CloudFormation parameters: names, sizes and the App's public settings, given
 * at `cdk deploy --parameters Name=value`. Parameters (not synth-time props) keep synth
 * offline and the same template deployable many times.
 */
export function kozmicParameters(scope: Construct) {
  const text = (
    id: string,
    description: string,
    more: { default?: string; allowedPattern?: string; allowedValues?: string[] } = {},
  ) => new CfnParameter(scope, id, { type: "String", description, ...more });
  const count = (id: string, description: string, fallback: number, min: number, max: number) =>
    new CfnParameter(scope, id, {
      type: "Number",
      description,
      default: fallback,
      minValue: min,
      maxValue: max,
    });

  return {
    queueName: text(
      "QueueName",
      "Name of the SQS job queue; the stack also makes <name>-dead-letters, <name>-plans and <name>-plans-dead-letters",
      { default: "kozmic-jobs", allowedPattern: "^[A-Za-z0-9_-]{1,61}$" },
    ),
    tableName: text(
      "TableName",
      "Name of the DynamoDB table (KOZMIC_TABLE); empty: one CloudFormation makes up. The table outlives the stack, so a stack deployed again after a delete needs a name no table has (empty always does; docs/aws.md)",
      { default: "", allowedPattern: "^$|^[A-Za-z0-9_.-]{3,255}$" },
    ),
    appId: text("AppId", "The GitHub App's numeric App ID (APP_ID)", {
      allowedPattern: "^[1-9][0-9]{0,15}$",
    }),
    gitHubHost: text(
      "GitHubHost",
      "GitHub Enterprise Server host name (GHE_HOST); empty for github.com",
      { default: "", allowedPattern: "^$|^[A-Za-z0-9.-]+(:[0-9]{1,5})?$" },
    ),
    gitHubClientId: text(
      "GitHubClientId",
      "The App's OAuth client ID (GITHUB_CLIENT_ID), for signing in to private repositories' pages; empty: public pages only",
      { default: "", allowedPattern: "^[A-Za-z0-9._-]*$" },
    ),
    publicUrl: text(
      "PublicUrl",
      "Where the log pages are served (KOZMIC_PUBLIC_URL) when that is your own domain in front of the function URL; empty: the function URL (the webhook function takes it from the requests it is sent)",
      { default: "", allowedPattern: "^$|^https?://[^\\s'\"]+$" },
    ),
    logRetentionDays: count(
      "LogRetentionDays",
      "Days a job's log is kept (KOZMIC_LOG_RETENTION_DAYS)",
      30,
      1,
      3650,
    ),
    webhookConcurrency: count(
      "WebhookConcurrency",
      "Reserved concurrency of the webhook function: the most requests it serves at once, taken from the account's Lambda concurrency so that the public URL cannot use all of it",
      20,
      1,
      1000,
    ),
    plannerConcurrency: count(
      "PlannerConcurrency",
      "Reserved concurrency of the planner function (batches planned at once; at least 2, which SQS event sources need)",
      5,
      2,
      1000,
    ),
    webhookMemory: count("WebhookMemory", "Memory of the webhook function, MiB", 1024, 128, 10240),
    plannerMemory: count("PlannerMemory", "Memory of the planner function, MiB", 512, 128, 10240),
    alarmEmail: text(
      "AlarmEmail",
      "Address told when a message is dead-lettered (subscribed to the AlarmTopicArn output); empty: none",
      { default: "", allowedPattern: "^$|^[^@\\s]+@[^@\\s]+$" },
    ),
    runnerMinCount: count(
      "RunnerMinCount",
      "Runner hosts kept running when no job waits (the group's MinSize; the scaler adds hosts above it as jobs queue); more than 0 needs RunnerVpcId and RunnerSubnetIds",
      0,
      0,
      1000,
    ),
    runnerMaxCount: count(
      "RunnerMaxCount",
      "Most runner hosts the group may run (the scaler's cap)",
      10,
      0,
      1000,
    ),
    runnerIdleMinutes: count(
      "RunnerIdleMinutes",
      "Minutes hosts beyond what the queued and running jobs need are kept before the scaler lets them go (back to RunnerMinCount when idle)",
      10,
      0,
      1440,
    ),
    runnerDrainSeconds: count(
      "RunnerDrainSeconds",
      "How long a host chosen for scale-in or replacement may finish its running jobs (the termination lifecycle hook's timeout, KOZMIC_DRAIN_TIME); jobs still running 20 s before its end go back to the queue",
      1200,
      30,
      7200,
    ),
    runnerVpcId: text(
      "RunnerVpcId",
      "VPC of the runner hosts; empty: no launch template or Auto Scaling group is made",
      { default: "", allowedPattern: "^$|^vpc-[0-9a-f]+$" },
    ),
    runnerSubnetIds: new CfnParameter(scope, "RunnerSubnetIds", {
      type: "CommaDelimitedList",
      description:
        "Subnets of the runner hosts (in RunnerVpcId), with a route to the internet (GitHub, registries, nodejs.org)",
      default: "",
    }),
    runnerImageId: new CfnParameter(scope, "RunnerImageId", {
      type: "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
      description: "SSM parameter naming the runner hosts' AMI (Amazon Linux 2023)",
      default: DEFAULT_RUNNER_IMAGE,
    }),
    runnerInstanceType: text(
      "RunnerInstanceType",
      "EC2 instance type of a runner host (the runner artifact's architecture); the first choice of the group's mixed instances",
      { default: "m7i.large", allowedPattern: "^[a-z0-9-]+\\.[a-z0-9-]+$" },
    ),
    runnerInstanceType2: text(
      "RunnerInstanceType2",
      "A second instance type the group may launch when the first has no (spot) capacity; empty: none",
      { default: "m6i.large", allowedPattern: "^$|^[a-z0-9-]+\\.[a-z0-9-]+$" },
    ),
    runnerInstanceType3: text("RunnerInstanceType3", "A third instance type; empty: none", {
      default: "m5.large",
      allowedPattern: "^$|^[a-z0-9-]+\\.[a-z0-9-]+$",
    }),
    runnerOnDemandBase: count(
      "RunnerOnDemandBase",
      "Runner hosts that are always on-demand, never spot (the first ones the group runs)",
      0,
      0,
      1000,
    ),
    runnerOnDemandPercent: count(
      "RunnerOnDemandPercent",
      "Percent of the hosts above RunnerOnDemandBase that are on-demand: 0 all spot (cheapest; a host taken back drains and its jobs run elsewhere), 100 no spot",
      0,
      0,
      100,
    ),
    runnerVolumeSize: count(
      "RunnerVolumeSize",
      "Root volume of a runner host, GiB (images, install caches, git mirrors)",
      100,
      20,
      16384,
    ),
    runnerConcurrency: text(
      "RunnerConcurrency",
      "Jobs a runner host runs at once (KOZMIC_RUNNER_CONCURRENCY), also the scaler's slots per host; empty: one per CPU on the hosts, and the scaler counts 2",
      { default: "2", allowedPattern: "^$|^[1-9][0-9]{0,2}$" },
    ),
    jobsNetwork: text(
      "JobsNetwork",
      "Docker network of jobs' containers on the runner hosts (KOZMIC_NETWORK): bridge reaches the internet through the host, none cuts them off, or a network you create on the hosts",
      { default: "bridge", allowedPattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$" },
    ),
  };
}

export type KozmicParameters = ReturnType<typeof kozmicParameters>;
