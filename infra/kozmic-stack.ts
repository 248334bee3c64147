import { readFileSync } from "node:fs";
import {
  CfnCondition,
  CfnOutput,
  CfnRule,
  Duration,
  Fn,
  Stack,
  type StackProps,
  Validations,
} from "aws-cdk-lib";
import * as cloudwatchActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import { DEFAULT_MAX_RECEIVES } from "../src/settings/shared-variables.js";
import { SECRET_KEYS } from "../src/settings/secret-env.js";
import { PLAN_MAX_RECEIVES } from "../src/settings/storage-settings.js";
import { AppFunctions, PLANNER_TIMEOUT } from "./lib/app-functions.js";
import { artifactBucket } from "./lib/artifact-bucket.js";
import { cacheRepository } from "./lib/cache-repository.js";
import { kozmicParameters } from "./lib/parameters.js";
import { KozmicQueues } from "./lib/queues.js";
import type { RunnerArtifactFile } from "./lib/runner-artifact.js";
import { RUNNER_SECRET_KEYS, RunnerHosts } from "./lib/runner-hosts.js";
import { RunnerScaling } from "./lib/runner-scaling.js";
import { ScheduleTimer } from "./lib/schedule-timer.js";
import { secretsKey as kmsSecretsKey } from "./lib/secrets-key.js";
import { kozmicTable } from "./lib/table.js";

export const WEBHOOK_PATH = "api/github/webhooks";

export interface KozmicStackProps extends StackProps {
  /** Directory holding the webhook bundle (`index.mjs` exporting `handler`). */
  webhookCode: string;
  /** Directory holding the planner bundle (`index.mjs` exporting `planHandler`). */
  plannerCode: string;
  /** Directory holding the scaler bundle (`index.mjs` exporting `scaleHandler`). */
  scalerCode: string;
  /** The runner hosts' software (scripts/bundle-runner.ts), see readRunnerArtifact. */
  runnerArtifact: RunnerArtifactFile;
}

const runnerFile = (name: string) =>
  readFileSync(new URL(`./runner/${name}`, import.meta.url), "utf8");

/**
 * Kozmic on AWS: the job and planning queues, the table, the artifact bucket, the app's two functions and the
 * runner hosts. Names and sizes are CloudFormation parameters (./lib/parameters.ts).
 */
export class KozmicStack extends Stack {
  constructor(scope: Construct, id: string, props: KozmicStackProps) {
    super(scope, id, {
      description:
        "Kozmic CI: webhook and planner on Lambda, SQS queues, DynamoDB, an artifact bucket, runner hosts",
      ...props,
    });
    const p = kozmicParameters(this);
    const given = (value: string) => Fn.conditionNot(Fn.conditionEquals(value, ""));
    const hasPublicUrl = new CfnCondition(this, "HasPublicUrl", {
      expression: given(p.publicUrl.valueAsString),
    });
    const hasAlarmEmail = new CfnCondition(this, "HasAlarmEmail", {
      expression: given(p.alarmEmail.valueAsString),
    });
    const hasRunnerNetwork = new CfnCondition(this, "HasRunnerNetwork", {
      expression: given(p.runnerVpcId.valueAsString),
    });
    new CfnRule(this, "RunnersNeedANetwork", {
      ruleCondition: Fn.conditionNot(Fn.conditionEquals(p.runnerMinCount.valueAsString, "0")),
      assertions: [
        {
          assert: given(p.runnerVpcId.valueAsString),
          assertDescription: "RunnerMinCount above 0 needs RunnerVpcId and RunnerSubnetIds",
        },
      ],
    });
    new CfnRule(this, "RunnerVpcNeedsSubnets", {
      ruleCondition: given(p.runnerVpcId.valueAsString),
      assertions: [
        {
          assert: Fn.conditionNot(Fn.conditionEachMemberEquals(p.runnerSubnetIds.valueAsList, "")),
          assertDescription: "RunnerVpcId needs RunnerSubnetIds: subnets of that VPC",
        },
      ],
    });

    // A planning message may wait in Lambda's batch for the function's whole timeout; AWS
    // asks for a visibility timeout of at least six times that.
    const queues = new KozmicQueues(this, "Queues", {
      name: p.queueName.valueAsString,
      jobMaxReceives: DEFAULT_MAX_RECEIVES,
      planMaxReceives: PLAN_MAX_RECEIVES,
      planVisibility: Duration.seconds(6 * PLANNER_TIMEOUT.toSeconds()),
    });
    // Told when a message is dead-lettered. Not encrypted: CloudWatch cannot publish to a
    // topic under the AWS-managed SNS key, and an alarm's text holds no secret.
    const alarmTopic = new sns.Topic(this, "AlarmTopic", {
      displayName: "Kozmic: dead-lettered messages",
      enforceSSL: true,
    });
    const alarmEmail = new sns.CfnSubscription(this, "AlarmEmailSubscription", {
      topicArn: alarmTopic.topicArn,
      protocol: "email",
      endpoint: p.alarmEmail.valueAsString,
    });
    alarmEmail.cfnOptions.condition = hasAlarmEmail;
    for (const { alarm } of [queues.jobs, queues.plans]) {
      alarm.addAlarmAction(new cloudwatchActions.SnsAction(alarmTopic));
    }

    const table = kozmicTable(this, "Store", p.tableName.valueAsString);
    // Jobs' artifacts, expiring with the logs; kept, like the table, when the stack goes.
    const artifacts = artifactBucket(this, "Artifacts", p.logRetentionDays.valueAsNumber);

    const secret = new secretsmanager.Secret(this, "AppSecret", {
      // The keys the functions read at cold start (src/settings/secret-env.ts).
      description: `Kozmic's GitHub App secrets, one JSON object: ${SECRET_KEYS.join(", ")}`,
      // A template to fill in (docs/aws.md, "Deploying to AWS"); the session secret is made here.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({
          PRIVATE_KEY: "",
          WEBHOOK_SECRET: "",
          GITHUB_CLIENT_SECRET: "",
        }),
        generateStringKey: "KOZMIC_SESSION_SECRET",
        excludePunctuation: true,
        passwordLength: 64,
      },
    });
    Validations.of(secret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "Its keys are the GitHub App's private key and webhook secret, which are made and rotated in GitHub's App settings, then pasted here (docs/aws.md); no rotation function can do that",
    });

    // What runner hosts read, apart from the functions' secret: the App's key (the same as
    // the App secret's PRIVATE_KEY) and the fleet cache's tag key, never the webhook or
    // session secrets, which would let a host forge deliveries or sign-ins.
    const runnerSecret = new secretsmanager.Secret(this, "RunnerSecret", {
      description: `Kozmic runner hosts' secrets, one JSON object: ${RUNNER_SECRET_KEYS.join(", ")}`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ PRIVATE_KEY: "" }),
        generateStringKey: "KOZMIC_CACHE_REGISTRY_KEY",
        excludePunctuation: true,
        passwordLength: 64,
      },
    });
    Validations.of(runnerSecret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "Its PRIVATE_KEY is the GitHub App's, made and rotated in GitHub's App settings; its KOZMIC_CACHE_REGISTRY_KEY keys the fleet cache's tags, and a new one only empties the cache",
    });
    const secretsKey = kmsSecretsKey(this, "SecretsKey");

    const publicSettings = {
      APP_ID: p.appId.valueAsString,
      GHE_HOST: p.gitHubHost.valueAsString,
      KOZMIC_LOG_RETENTION_DAYS: p.logRetentionDays.valueAsString,
    };
    const publicUrlOr = (functionUrl: string) =>
      Fn.conditionIf(hasPublicUrl.logicalId, p.publicUrl.valueAsString, functionUrl).toString();
    const functions = new AppFunctions(this, "App", {
      webhookCode: props.webhookCode,
      plannerCode: props.plannerCode,
      queues,
      table,
      secret,
      secretsKey,
      artifactBucket: artifacts,
      environment: { ...publicSettings, GITHUB_CLIENT_ID: p.gitHubClientId.valueAsString },
      webhookPublicUrl: p.publicUrl.valueAsString,
      plannerPublicUrl: publicUrlOr,
      webhookMemoryMiB: p.webhookMemory.valueAsNumber,
      plannerMemoryMiB: p.plannerMemory.valueAsNumber,
      webhookConcurrency: p.webhookConcurrency.valueAsNumber,
      plannerConcurrency: p.plannerConcurrency.valueAsNumber,
    });

    const installCache = cacheRepository(this, "InstallCache");
    const runners = new RunnerHosts(this, "Runners", {
      queues,
      table,
      secretsKey,
      cacheRepository: installCache,
      artifactBucket: artifacts,
      secret: runnerSecret,
      unit: runnerFile("kozmic-runner.service"),
      envExample: runnerFile("runner.env.example"),
      environment: {
        ...publicSettings,
        KOZMIC_PUBLIC_URL: publicUrlOr(functions.url.url),
        KOZMIC_MAX_RECEIVES: String(DEFAULT_MAX_RECEIVES),
        KOZMIC_RUNNER_CONCURRENCY: p.runnerConcurrency.valueAsString,
      },
      imageId: p.runnerImageId.valueAsString,
      instanceTypes: [
        p.runnerInstanceType.valueAsString,
        p.runnerInstanceType2.valueAsString,
        p.runnerInstanceType3.valueAsString,
      ],
      volumeGiB: p.runnerVolumeSize.valueAsNumber,
      minCount: p.runnerMinCount.valueAsString,
      maxCount: p.runnerMaxCount.valueAsString,
      onDemandBase: p.runnerOnDemandBase.valueAsString,
      onDemandPercent: p.runnerOnDemandPercent.valueAsString,
      drainSeconds: p.runnerDrainSeconds.valueAsString,
      vpcId: p.runnerVpcId.valueAsString,
      subnetIds: p.runnerSubnetIds.valueAsList,
      artifact: props.runnerArtifact,
      jobsNetwork: p.jobsNetwork.valueAsString,
      hasNetwork: hasRunnerNetwork,
    });
    new RunnerScaling(this, "Scaling", {
      scalerCode: props.scalerCode,
      queues,
      groupName: runners.groupName,
      slotsPerHost: p.runnerConcurrency.valueAsString,
      idleMinutes: p.runnerIdleMinutes.valueAsString,
      onDemandPercent: p.runnerOnDemandPercent.valueAsString,
      hasNetwork: hasRunnerNetwork,
    });

    new ScheduleTimer(this, "Schedules", { planner: functions.planner });

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output(
      "WebhookUrl",
      Fn.join("", [functions.url.url, WEBHOOK_PATH]),
      "The GitHub App's webhook URL",
    );
    output(
      "FunctionUrl",
      functions.url.url,
      "The log pages' address: PublicUrl, unless you use your own domain",
    );
    output("QueueUrl", queues.jobs.queue.queueUrl, "KOZMIC_QUEUE_URL");
    output("DeadLetterQueueUrl", queues.jobs.deadLetters.queueUrl, "KOZMIC_DEAD_LETTER_QUEUE_URL");
    output("PlanQueueUrl", queues.plans.queue.queueUrl, "KOZMIC_PLAN_QUEUE_URL");
    output("Table", table.tableName, "KOZMIC_TABLE");
    output("ArtifactBucket", artifacts.bucketName, "KOZMIC_ARTIFACT_BUCKET: jobs' artifacts");
    output("SecretArn", secret.secretArn, "The secret to fill in: " + SECRET_KEYS.join(", "));
    output(
      "RunnerSecretArn",
      runnerSecret.secretArn,
      "The runner hosts' secret: PRIVATE_KEY to fill in (the App's key again)",
    );
    output("AlarmTopicArn", alarmTopic.topicArn, "Told when a message is dead-lettered");
    output("SecretsKeyArn", secretsKey.keyArn, "KOZMIC_KMS_KEY_ID: wraps repository secrets");
    output("CacheRegistry", installCache.repositoryUri, "KOZMIC_CACHE_REGISTRY");
    output("RunnerRoleArn", runners.role.roleArn, "The runner hosts' role");
    output(
      "RunnerInstanceProfileArn",
      runners.instanceProfile.attrArn,
      "The runner hosts' instance profile, for hosts you start yourself",
    );
  }
}
