import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import {
  HOST_GROUP_ACTIONS,
  CONSUME,
  DESCRIBE_GROUPS,
  ECR_PULL,
  ECR_PUSH,
  ECR_TOKEN,
  EVENT_SOURCE,
  GET_JOB_ARTIFACTS,
  KMS_UNWRAP,
  KMS_WRAP,
  LIST_JOB_ARTIFACTS,
  PUT_JOB_ARTIFACTS,
  READ_ARTIFACT,
  READ_DEPTH,
  READ_REDRIVE,
  READ_SECRET,
  REPORT_HEALTH,
  SEND,
  SHIP_LOGS,
  SCALE_GROUP,
  TABLE_ACTIONS,
  WRITE_LOGS,
} from "../../infra/lib/access.js";
import { PLANNER_TIMEOUT } from "../../infra/lib/app-functions.js";
import { ARTIFACT_EXPIRY_RULE } from "../../infra/lib/artifact-bucket.js";
import { CACHE_IMAGE_DAYS, UNTRUSTED_CACHE_IMAGE_DAYS } from "../../infra/lib/cache-repository.js";
import { DEFAULT_RUNNER_IMAGE } from "../../infra/lib/parameters.js";
import { KozmicStack } from "../../infra/kozmic-stack.js";
import { registryTag } from "../../src/core/cache-registry.js";
import { SCHEDULE_TICK_EVENT } from "../../src/core/schedules.js";
import { SECRET_KEYS } from "../../src/settings/secret-env.js";
import { DEFAULT_MAX_RECEIVES, KOZMIC_MAX_RECEIVES } from "../../src/settings/shared-variables.js";
import { PLAN_MAX_RECEIVES } from "../../src/settings/storage-settings.js";
import { ARTIFACT_PREFIX } from "../../src/store/s3-artifacts.js";
import { asList, fakeBundles, policyStatements, type Json } from "./stack-support.js";

/** Resources a statement may name as `*`, each because AWS accepts nothing narrower. */
const STAR_RESOURCES_ALLOWED: { resource: string; actions: string[]; why: string }[] = [
  {
    resource: "RunnersRole",
    actions: ["ecr:GetAuthorizationToken"],
    why: "ECR's token is for the registry, not a repository: AWS authorises it on * only",
  },
  {
    resource: "ScalingScalerRole",
    actions: ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeScalingActivities"],
    why: "Auto Scaling's Describe calls support no resource-level permission",
  },
];

/** The runner group's ARN, by the name the stack gives it. */
const RUNNER_GROUP_ARN = {
  "Fn::Join": [
    "",
    [
      "arn:",
      { Ref: "AWS::Partition" },
      ":autoscaling:",
      { Ref: "AWS::Region" },
      ":",
      { Ref: "AWS::AccountId" },
      ":autoScalingGroup:*:autoScalingGroupName/",
      { Ref: "AWS::StackName" },
      "-runners",
    ],
  ],
};

let template: Template;
let json: Json;
let bundles: ReturnType<typeof fakeBundles>;

/** The logical id of the one resource of `type` whose properties match. */
function idOf(type: string, props: Json = {}): string {
  const found = Object.keys(template.findResources(type, { Properties: props }));
  assert.equal(found.length, 1, `one ${type} like ${JSON.stringify(props)}, found ${found}`);
  return found[0]!;
}
const arnOf = (id: string) => ({ "Fn::GetAtt": [id, "Arn"] });
const resources = () => json.Resources as Record<string, Json & { Properties: Json }>;
const propsOf = (id: string) => resources()[id]!.Properties;

/** A CloudFormation string value as text: intrinsics shown as <Ref X>, <X.Attr> or <If ...>. */
function flatten(value: unknown): string {
  if (typeof value === "string") return value;
  const v = value as Json;
  if (v["Fn::Join"]) {
    const [separator, parts] = v["Fn::Join"] as [string, unknown[]];
    return parts.map(flatten).join(separator);
  }
  if (v["Fn::Base64"]) return flatten(v["Fn::Base64"]);
  if (v.Ref) return `<Ref ${v.Ref as string}>`;
  if (v["Fn::Sub"]) return `<Sub ${v["Fn::Sub"] as string}>`;
  if (v["Fn::GetAtt"]) return `<${(v["Fn::GetAtt"] as string[]).join(".")}>`;
  if (v["Fn::Select"]) {
    const [index, list] = v["Fn::Select"] as [number, unknown];
    return `<Select ${index} ${flatten(list)}>`;
  }
  if (v["Fn::Split"]) {
    const [separator, text] = v["Fn::Split"] as [string, unknown];
    return `<Split ${separator} ${flatten(text)}>`;
  }
  if (v["Fn::If"]) {
    const [condition, yes, no] = v["Fn::If"] as [string, unknown, unknown];
    return `<If ${condition} ${flatten(yes)} ${flatten(no)}>`;
  }
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

/** The runner artifact's S3 key: its asset hash and extension, as the user data names it. */
function artifactKey(): string {
  const data = propsOf(idOf("AWS::EC2::LaunchTemplate")).LaunchTemplateData as Json;
  const key = /assets-\$\{AWS::AccountId\}-\$\{AWS::Region\}\/([0-9a-f]{64}\.gz)>/.exec(
    flatten(data.UserData),
  )?.[1];
  assert.ok(key, "the user data names the artifact");
  return key;
}

/** The Allow statements of a role's inline policy: actions, resources and any condition. */
function roleStatements(
  roleId: string,
): { actions: string[]; resources: unknown[]; condition?: unknown }[] {
  const policies = propsOf(roleId).Policies as { PolicyDocument: { Statement: Json[] } }[];
  assert.equal(policies.length, 1);
  return policies[0]!.PolicyDocument.Statement.map((s) => {
    assert.equal(s.Effect, "Allow");
    return {
      actions: asList(s.Action) as string[],
      resources: asList(s.Resource),
      ...(s.Condition === undefined ? {} : { condition: s.Condition }),
    };
  });
}

/** The artifact bucket's objects under `artifacts/`, as a statement names them. */
const artifactObjects = (bucket: string) => ({
  "Fn::Join": ["", [arnOf(bucket), `/${ARTIFACT_PREFIX}*`]],
});

describe("infra: the Kozmic CDK stack", () => {
  let ids: {
    jobs: string;
    jobDeadLetters: string;
    plans: string;
    planDeadLetters: string;
    table: string;
    secret: string;
    runnerSecret: string;
    webhook: string;
    planner: string;
    cache: string;
    secretsKey: string;
    artifacts: string;
  };

  before(() => {
    // CDK's own template validation (cfn-lint's rules, several seconds) is left to the synth
    // test, which also runs cfn-lint itself.
    process.env.CDK_VALIDATION = "false";
    bundles = fakeBundles();
    const app = new App();
    const stack = new KozmicStack(app, "KozmicTest", bundles);
    template = Template.fromStack(stack);
    json = template.toJSON() as Json;
    ids = {
      jobs: idOf("AWS::SQS::Queue", { QueueName: { Ref: "QueueName" } }),
      jobDeadLetters: idOf("AWS::SQS::Queue", {
        QueueName: { "Fn::Join": ["", [{ Ref: "QueueName" }, "-dead-letters"]] },
      }),
      plans: idOf("AWS::SQS::Queue", {
        QueueName: { "Fn::Join": ["", [{ Ref: "QueueName" }, "-plans"]] },
      }),
      planDeadLetters: idOf("AWS::SQS::Queue", {
        QueueName: { "Fn::Join": ["", [{ Ref: "QueueName" }, "-plans-dead-letters"]] },
      }),
      table: idOf("AWS::DynamoDB::Table"),
      secret: idOf("AWS::SecretsManager::Secret", {
        Description: Match.stringLikeRegexp("GitHub App secrets"),
      }),
      runnerSecret: idOf("AWS::SecretsManager::Secret", {
        Description: Match.stringLikeRegexp("runner hosts' secrets"),
      }),
      webhook: idOf("AWS::Lambda::Function", { Handler: "index.handler" }),
      planner: idOf("AWS::Lambda::Function", { Handler: "index.planHandler" }),
      cache: idOf("AWS::ECR::Repository"),
      secretsKey: idOf("AWS::KMS::Key"),
      artifacts: idOf("AWS::S3::Bucket"),
    };
  });
  after(() => rmSync(bundles.root, { recursive: true, force: true }));

  /** The cache repository's URI, `<account>.dkr.ecr.<region>.<suffix>/<name>`, as flatten shows it. */
  const cacheUri = () => {
    const part = (n: number) => `<Select ${n} <Split : <${ids.cache}.Arn>>>`;
    return `${part(4)}.dkr.ecr.${part(3)}.<Ref AWS::URLSuffix>/<Ref ${ids.cache}>`;
  };

  it("job queue: redrive after the runner's KOZMIC_MAX_RECEIVES receives (one constant), SSE", () => {
    // The runner's default, as the settings reader gives it, is the constant the stack uses.
    assert.equal(KOZMIC_MAX_RECEIVES.parse(undefined), DEFAULT_MAX_RECEIVES);
    const jobs = propsOf(ids.jobs);
    assert.deepEqual(jobs.RedrivePolicy, {
      deadLetterTargetArn: arnOf(ids.jobDeadLetters),
      maxReceiveCount: DEFAULT_MAX_RECEIVES,
    });
    for (const id of [ids.jobs, ids.jobDeadLetters, ids.plans, ids.planDeadLetters]) {
      assert.equal(propsOf(id).SqsManagedSseEnabled, true, `${id} is encrypted`);
    }
    template.hasParameter("QueueName", { Type: "String", Default: "kozmic-jobs" });
  });

  it("planning queue: redrive after PLAN_MAX_RECEIVES, visibility ≥ 6 × the planner's timeout", () => {
    const plans = propsOf(ids.plans);
    assert.deepEqual(plans.RedrivePolicy, {
      deadLetterTargetArn: arnOf(ids.planDeadLetters),
      maxReceiveCount: PLAN_MAX_RECEIVES,
    });
    const plannerTimeout = propsOf(ids.planner).Timeout as number;
    assert.equal(plannerTimeout, PLANNER_TIMEOUT.toSeconds());
    assert.ok((plans.VisibilityTimeout as number) >= 6 * plannerTimeout);
  });

  it("an alarm on each dead-letter queue's depth, sent to the alarm topic", () => {
    const topic = idOf("AWS::SNS::Topic");
    for (const [dead, what] of [
      [ids.jobDeadLetters, "job"],
      [ids.planDeadLetters, "planning"],
    ] as const) {
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dead, "QueueName"] } }],
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        Threshold: 1,
        AlarmActions: [{ Ref: topic }],
        AlarmDescription: Match.stringLikeRegexp(`^A ${what} message was dead-lettered`),
      });
    }
    // An address given as AlarmEmail is subscribed; none by default.
    const subscription = Object.values(template.findResources("AWS::SNS::Subscription"))[0]!;
    assert.equal(subscription.Condition, "HasAlarmEmail");
    assert.deepEqual(subscription.Properties.Endpoint, { Ref: "AlarmEmail" });
  });

  it("table: the key design of docs/queue-store.md, on-demand, TTL on expiresAt, PITR, kept", () => {
    const table = resources()[ids.table]!;
    const props = table.Properties;
    assert.deepEqual(props.KeySchema, [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    assert.deepEqual(
      props.AttributeDefinitions,
      ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"].map((AttributeName) => ({
        AttributeName,
        AttributeType: "S",
      })),
    );
    assert.deepEqual(
      props.GlobalSecondaryIndexes,
      [1, 2].map((n) => ({
        IndexName: `gsi${n}`,
        KeySchema: [
          { AttributeName: `gsi${n}pk`, KeyType: "HASH" },
          { AttributeName: `gsi${n}sk`, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "ALL" },
      })),
    );
    assert.equal(props.BillingMode, "PAY_PER_REQUEST");
    assert.deepEqual(props.TimeToLiveSpecification, { AttributeName: "expiresAt", Enabled: true });
    assert.deepEqual(props.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
    // The parameter, or a name CloudFormation makes up: a new stack never collides with the
    // table an old one left behind.
    assert.deepEqual(props.TableName, {
      "Fn::If": ["StoreIsNamed", { Ref: "TableName" }, { Ref: "AWS::NoValue" }],
    });
    assert.deepEqual((json.Conditions as Json).StoreIsNamed, {
      "Fn::Not": [{ "Fn::Equals": [{ Ref: "TableName" }, ""] }],
    });
    template.hasParameter("TableName", { Default: "" });
    assert.equal(table.DeletionPolicy, "Retain");
  });

  it("functions: Node.js 22 or later on arm64, the bundle's handlers, the settings they read", () => {
    for (const [id, handler] of [
      [ids.webhook, "index.handler"],
      [ids.planner, "index.planHandler"],
    ] as const) {
      const props = propsOf(id);
      const major = Number(/^nodejs(\d+)\.x$/.exec(props.Runtime as string)?.[1]);
      assert.ok(major >= 22, `${id} runtime ${props.Runtime as string}`);
      assert.deepEqual(props.Architectures, ["arm64"]);
      assert.equal(props.Handler, handler);
      const env = (props.Environment as { Variables: Json }).Variables;
      assert.deepEqual(env.KOZMIC_QUEUE_URL, { Ref: ids.jobs });
      assert.deepEqual(env.KOZMIC_DEAD_LETTER_QUEUE_URL, { Ref: ids.jobDeadLetters });
      assert.deepEqual(env.KOZMIC_PLAN_QUEUE_URL, { Ref: ids.plans });
      assert.deepEqual(env.KOZMIC_TABLE, { Ref: ids.table });
      assert.deepEqual(env.KOZMIC_SECRET_ARN, { Ref: ids.secret });
      assert.deepEqual(env.APP_ID, { Ref: "AppId" });
      assert.deepEqual(env.GHE_HOST, { Ref: "GitHubHost" });
      // No secret in the environment: the functions read them from the secret.
      for (const key of SECRET_KEYS) assert.equal(env[key], undefined, `${key} not in ${id}'s env`);
    }
    template.hasParameter("GitHubHost", { Default: "" });
    // Each function's ceiling, kept from the account's other functions: the public URL
    // cannot take all of the account's concurrency, nor the planner starve the webhook.
    assert.deepEqual(propsOf(ids.webhook).ReservedConcurrentExecutions, {
      Ref: "WebhookConcurrency",
    });
    assert.deepEqual(propsOf(ids.planner).ReservedConcurrentExecutions, {
      Ref: "PlannerConcurrency",
    });
    template.hasParameter("PlannerConcurrency", { MinValue: 2 });
  });

  it("KOZMIC_PUBLIC_URL: the parameter for the webhook function (its own URL would be a cycle), else the function URL", () => {
    const url = idOf("AWS::Lambda::Url");
    const env = (id: string) =>
      (propsOf(id).Environment as { Variables: Json }).Variables.KOZMIC_PUBLIC_URL as unknown;
    assert.deepEqual(env(ids.webhook), { Ref: "PublicUrl" });
    assert.deepEqual(env(ids.planner), {
      "Fn::If": ["HasPublicUrl", { Ref: "PublicUrl" }, { "Fn::GetAtt": [url, "FunctionUrl"] }],
    });
    template.hasParameter("PublicUrl", { Default: "" });
  });

  it("the secret: one JSON object with the four keys the functions read", () => {
    const generate = propsOf(ids.secret).GenerateSecretString as Json;
    const keys = [
      ...Object.keys(JSON.parse(generate.SecretStringTemplate as string) as Json),
      generate.GenerateStringKey,
    ];
    assert.deepEqual(keys.sort(), [...SECRET_KEYS].sort());
  });

  it("the runner hosts' secret holds only what their boot reads: the App's key and the cache's tag key", () => {
    const generate = propsOf(ids.runnerSecret).GenerateSecretString as Json;
    assert.deepEqual(
      [
        ...Object.keys(JSON.parse(generate.SecretStringTemplate as string) as Json),
        generate.GenerateStringKey,
      ],
      ["PRIVATE_KEY", "KOZMIC_CACHE_REGISTRY_KEY"],
    );
    // No role but the functions' may read the App secret (webhook and session secrets).
    const readers = policyStatements(json)
      .filter(({ statement }) =>
        asList(statement.Resource).some(
          (r) => JSON.stringify(r) === JSON.stringify({ Ref: ids.secret }),
        ),
      )
      .map((s) => s.resource)
      .sort();
    assert.deepEqual(readers.length, 2);
    assert.ok(
      readers.every((r) => r.startsWith("App")),
      readers.join(", "),
    );
  });

  it("the webhook function has a Function URL without IAM auth, open to anyone", () => {
    const url = idOf("AWS::Lambda::Url");
    assert.deepEqual(propsOf(url), { AuthType: "NONE", TargetFunctionArn: arnOf(ids.webhook) });
    template.hasResourceProperties("AWS::Lambda::Permission", {
      Action: "lambda:InvokeFunctionUrl",
      FunctionName: arnOf(ids.webhook),
      Principal: "*",
      FunctionUrlAuthType: "NONE",
    });
  });

  it("the planner is fed by the planning queue and reports batch item failures", () => {
    template.resourcePropertiesCountIs("AWS::Lambda::EventSourceMapping", {}, 1);
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: arnOf(ids.plans),
      FunctionName: { Ref: ids.planner },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
  });

  it("each function's role may do what its code does, on its own resources, and nothing else", () => {
    const table = [arnOf(ids.table), { "Fn::Join": ["", [arnOf(ids.table), "/index/*"]] }];
    const logsOf = (fn: string) => {
      const group = (propsOf(fn).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      return [arnOf(group)];
    };
    const roleOf = (fn: string) =>
      (propsOf(fn).Role as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0]!;
    assert.deepEqual(roleStatements(roleOf(ids.webhook)), [
      { actions: WRITE_LOGS, resources: logsOf(ids.webhook) },
      { actions: SEND, resources: [arnOf(ids.plans)] },
      { actions: TABLE_ACTIONS, resources: table },
      { actions: READ_SECRET, resources: [{ Ref: ids.secret }] },
      { actions: [...KMS_UNWRAP, ...KMS_WRAP], resources: [arnOf(ids.secretsKey)] },
      // The job pages: listing a job's artifacts (only under artifacts/), reading one.
      {
        actions: LIST_JOB_ARTIFACTS,
        resources: [arnOf(ids.artifacts)],
        condition: { StringLike: { "s3:prefix": [`${ARTIFACT_PREFIX}*`] } },
      },
      { actions: GET_JOB_ARTIFACTS, resources: [artifactObjects(ids.artifacts)] },
    ]);
    assert.deepEqual(roleStatements(roleOf(ids.planner)), [
      { actions: WRITE_LOGS, resources: logsOf(ids.planner) },
      { actions: EVENT_SOURCE, resources: [arnOf(ids.plans)] },
      { actions: SEND, resources: [arnOf(ids.jobs), arnOf(ids.plans)] },
      { actions: TABLE_ACTIONS, resources: table },
      { actions: READ_SECRET, resources: [{ Ref: ids.secret }] },
    ]);
    assert.equal(Object.keys(template.findResources("AWS::IAM::Policy")).length, 0);
    assert.equal(Object.keys(template.findResources("AWS::IAM::ManagedPolicy")).length, 0);
    for (const fn of [ids.webhook, ids.planner]) {
      assert.equal(propsOf(roleOf(fn)).ManagedPolicyArns, undefined);
    }
  });

  it("the runner hosts' role: the job queue, receiving plans, dead-lettering, the table, the key; an instance profile", () => {
    const role = idOf("AWS::IAM::Role", {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: "sts:AssumeRole",
            Effect: "Allow",
            Principal: { Service: "ec2.amazonaws.com" },
          },
        ],
        Version: "2012-10-17",
      },
    });
    assert.deepEqual(roleStatements(role), [
      { actions: [...CONSUME, ...SEND, ...READ_REDRIVE], resources: [arnOf(ids.jobs)] },
      { actions: [...CONSUME, ...SEND, ...READ_REDRIVE], resources: [arnOf(ids.plans)] },
      { actions: SEND, resources: [arnOf(ids.jobDeadLetters), arnOf(ids.planDeadLetters)] },
      {
        actions: TABLE_ACTIONS,
        resources: [arnOf(ids.table), { "Fn::Join": ["", [arnOf(ids.table), "/index/*"]] }],
      },
      { actions: READ_SECRET, resources: [{ Ref: ids.runnerSecret }] },
      { actions: ECR_TOKEN, resources: ["*"] },
      { actions: [...ECR_PULL, ...ECR_PUSH], resources: [arnOf(ids.cache)] },
      { actions: KMS_UNWRAP, resources: [arnOf(ids.secretsKey)] },
      { actions: PUT_JOB_ARTIFACTS, resources: [artifactObjects(ids.artifacts)] },
      {
        actions: READ_ARTIFACT,
        resources: [
          {
            "Fn::Join": [
              "",
              [
                "arn:",
                { Ref: "AWS::Partition" },
                ":s3:::",
                { "Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}" },
                `/${artifactKey()}`,
              ],
            ],
          },
        ],
      },
      {
        actions: SHIP_LOGS,
        resources: Object.keys(template.findResources("AWS::Logs::LogGroup"))
          .filter((id) => id.startsWith("Runners"))
          .map(arnOf),
      },
      { actions: HOST_GROUP_ACTIONS, resources: [RUNNER_GROUP_ARN] },
      {
        actions: REPORT_HEALTH,
        resources: [
          {
            "Fn::Join": [
              "",
              [
                "arn:",
                { Ref: "AWS::Partition" },
                ":autoscaling:",
                { Ref: "AWS::Region" },
                ":",
                { Ref: "AWS::AccountId" },
                ":autoScalingGroup:*:autoScalingGroupName/",
                { Ref: "AWS::StackName" },
                "-*",
              ],
            ],
          },
        ],
      },
    ]);
    assert.equal(propsOf(role).ManagedPolicyArns, undefined);
    template.hasResourceProperties("AWS::IAM::InstanceProfile", { Roles: [{ Ref: role }] });
  });

  it("every action the adapters call is granted: the table's commands, the job queue's, the artifact bucket's", () => {
    const commands = (file: string) =>
      new Set([...readFileSync(file, "utf8").matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!));
    const dynamo: Record<string, string[]> = {
      Get: ["dynamodb:GetItem"],
      Put: ["dynamodb:PutItem"],
      Query: ["dynamodb:Query"],
      Delete: ["dynamodb:DeleteItem"],
      Update: ["dynamodb:UpdateItem"],
      BatchWrite: ["dynamodb:BatchWriteItem"],
      BatchGet: ["dynamodb:BatchGetItem"],
      Scan: ["dynamodb:Scan"],
      // A transaction is authorised item by item; the store's holds Puts only (putAllNew).
      TransactWrite: ["dynamodb:PutItem"],
    };
    const used = commands("src/store/dynamodb-table.ts");
    assert.ok(used.size >= 4, `found ${[...used].join(", ")}`);
    for (const command of used) {
      assert.ok(dynamo[command], `an IAM action for ${command}Command in dynamodb-table.ts`);
      for (const action of dynamo[command]) assert.ok(TABLE_ACTIONS.includes(action), action);
    }
    const sqsActions: Record<string, string> = {
      SendMessage: "sqs:SendMessage",
      SendMessageBatch: "sqs:SendMessage",
      ReceiveMessage: "sqs:ReceiveMessage",
      DeleteMessage: "sqs:DeleteMessage",
      ChangeMessageVisibility: "sqs:ChangeMessageVisibility",
      GetQueueAttributes: "sqs:GetQueueAttributes",
    };
    // The artifact adapter: the runner puts, the job pages list and get.
    const s3Actions: Record<string, { action: string; granted: string[] }> = {
      PutObject: { action: "s3:PutObject", granted: PUT_JOB_ARTIFACTS },
      ListObjectsV2: { action: "s3:ListBucket", granted: LIST_JOB_ARTIFACTS },
      GetObject: { action: "s3:GetObject", granted: GET_JOB_ARTIFACTS },
    };
    const s3Used = commands("src/store/s3-artifacts.ts");
    assert.deepEqual([...s3Used].sort(), Object.keys(s3Actions).sort());
    for (const command of s3Used) {
      const { action, granted } = s3Actions[command]!;
      assert.ok(granted.includes(action), `${action} for ${command}Command in s3-artifacts.ts`);
    }
    const runnerJobQueue = [...CONSUME, ...SEND, ...READ_REDRIVE];
    for (const file of [
      "src/queue/sqs-queue.ts",
      "src/queue/check-job-queue-redrive.ts",
      "src/doctor/check-sqs-queues.ts",
    ]) {
      for (const command of commands(file)) {
        if (command === "CreateQueue") continue; // creating queues is the stack's work
        const action = sqsActions[command];
        assert.ok(action, `an IAM action for ${command}Command in ${file}`);
        assert.ok(runnerJobQueue.includes(action), `runners may ${action}`);
      }
    }
  });

  it("every IAM statement names its actions (no *) and its resources (* only where allowed)", () => {
    const all = policyStatements(json);
    // The queues' and topic's resource policies deny everything over plain HTTP: a Deny
    // narrows, so its wildcard grants nothing.
    const denials = all.filter((s) => s.statement.Effect === "Deny");
    assert.deepEqual(
      denials.map((d) => [d.type, d.statement.Condition]),
      [
        ...Array<string>(4).fill("AWS::SQS::QueuePolicy"),
        "AWS::SNS::TopicPolicy",
        "AWS::S3::BucketPolicy",
      ].map((type) => [type, { Bool: { "aws:SecureTransport": "false" } }]),
    );
    const statements = all.filter((s) => s.statement.Effect !== "Deny");
    assert.ok(statements.length >= 15, `found ${statements.length} statements`);
    for (const { resource, statement } of statements) {
      const where = `${resource}: ${JSON.stringify(statement)}`;
      const actions = asList(statement.Action);
      assert.ok(actions.length > 0 && actions.every((a) => typeof a === "string"), where);
      for (const action of actions as string[]) {
        assert.ok(!action.includes("*"), `a wildcard action in ${where}`);
      }
      if (statement.Principal !== undefined) continue; // a trust policy: who, not what
      assert.ok(statement.Resource !== undefined, `no Resource in ${where}`);
      for (const r of asList(statement.Resource)) {
        if (r !== "*") continue;
        const allowed = STAR_RESOURCES_ALLOWED.some(
          (a) =>
            resource.startsWith(a.resource) &&
            (actions as string[]).every((x) => a.actions.includes(x)),
        );
        assert.ok(allowed, `Resource "*" in ${where}`);
      }
    }
    // Resource policies: only the two the Function URL needs are open to anyone; the
    // scaler's and the schedules' rules (EventBridge, each from its one rule) are the others.
    const open = Object.values(template.findResources("AWS::Lambda::Permission")).map(
      (p) => p.Properties as Json,
    );
    assert.deepEqual(open.map((p) => [p.Action, p.Principal]).sort(), [
      ["lambda:InvokeFunction", "*"],
      ["lambda:InvokeFunction", "events.amazonaws.com"],
      ["lambda:InvokeFunction", "events.amazonaws.com"],
      ["lambda:InvokeFunctionUrl", "*"],
    ]);
    for (const p of open.filter((p) => p.Principal === "events.amazonaws.com")) {
      assert.ok(p.SourceArn, "an EventBridge permission names its rule");
    }
    assert.equal(
      open.find((p) => p.Action === "lambda:InvokeFunction" && p.Principal === "*")
        ?.InvokedViaFunctionUrl,
      true,
    );
  });

  it("runner hosts: launch template with IMDSv2 for the host only, an SSM-chosen AMI, none running by default", () => {
    template.hasParameter("RunnerImageId", {
      Type: "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
      Default: DEFAULT_RUNNER_IMAGE,
    });
    template.hasParameter("RunnerMinCount", { Type: "Number", Default: 0 });
    template.hasParameter("RunnerSubnetIds", { Type: "CommaDelimitedList" });
    const group = Object.values(template.findResources("AWS::AutoScaling::AutoScalingGroup"));
    assert.equal(group.length, 1);
    assert.equal(group[0]!.Condition, "HasRunnerNetwork");
    const g = group[0]!.Properties as Json;
    // The scaler owns the desired capacity: a stack update must not reset it.
    assert.equal(g.DesiredCapacity, undefined);
    assert.deepEqual(g.MinSize, { Ref: "RunnerMinCount" });
    assert.deepEqual(g.MaxSize, { Ref: "RunnerMaxCount" });
    assert.deepEqual(g.VPCZoneIdentifier, { Ref: "RunnerSubnetIds" });
    const templateId = idOf("AWS::EC2::LaunchTemplate");
    const data = propsOf(templateId).LaunchTemplateData as Json;
    assert.deepEqual(data.ImageId, { Ref: "RunnerImageId" });
    assert.deepEqual(data.MetadataOptions, { HttpTokens: "required", HttpPutResponseHopLimit: 1 });
    const profile = idOf("AWS::IAM::InstanceProfile");
    assert.deepEqual(data.IamInstanceProfile, { Arn: arnOf(profile) });
    const sg = idOf("AWS::EC2::SecurityGroup");
    assert.equal(propsOf(sg).SecurityGroupIngress, undefined, "no inbound rule");
    // Without a VPC the stack deploys without runners; with RunnerMinCount above 0 it must have one.
    assert.deepEqual((json.Conditions as Json).HasRunnerNetwork, {
      "Fn::Not": [{ "Fn::Equals": [{ Ref: "RunnerVpcId" }, ""] }],
    });
    const rules = json.Rules as Record<string, { RuleCondition: unknown }>;
    assert.deepEqual(rules.RunnersNeedANetwork!.RuleCondition, {
      "Fn::Not": [{ "Fn::Equals": [{ Ref: "RunnerMinCount" }, "0"] }],
    });
  });

  it("runner hosts: spot and on-demand across three instance types, drained through a termination lifecycle hook", () => {
    const g = propsOf(idOf("AWS::AutoScaling::AutoScalingGroup"));
    assert.deepEqual(g.AutoScalingGroupName, {
      "Fn::Join": ["", [{ Ref: "AWS::StackName" }, "-runners"]],
    });
    assert.equal(g.LaunchTemplate, undefined, "the mixed instances policy names the template");
    const mixed = g.MixedInstancesPolicy as {
      LaunchTemplate: { LaunchTemplateSpecification: Json; Overrides: unknown[] };
      InstancesDistribution: Json;
    };
    assert.deepEqual(mixed.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId, {
      Ref: idOf("AWS::EC2::LaunchTemplate"),
    });
    const [first, ...more] = mixed.LaunchTemplate.Overrides;
    assert.deepEqual(first, { InstanceType: { Ref: "RunnerInstanceType" } });
    // A further type only when its parameter is not empty (an empty override is refused).
    const conditions = json.Conditions as Record<string, unknown>;
    assert.deepEqual(
      more.map((o) => {
        const [condition, yes, no] = (o as { "Fn::If": [string, unknown, unknown] })["Fn::If"];
        assert.deepEqual(no, { Ref: "AWS::NoValue" });
        return [conditions[condition], yes];
      }),
      ["RunnerInstanceType2", "RunnerInstanceType3"].map((name) => [
        { "Fn::Not": [{ "Fn::Equals": [{ Ref: name }, ""] }] },
        { InstanceType: { Ref: name } },
      ]),
    );
    template.hasParameter("RunnerInstanceType2", { Default: "m6i.large" });
    template.hasParameter("RunnerOnDemandPercent", { Type: "Number", Default: 0, MaxValue: 100 });
    assert.deepEqual(mixed.InstancesDistribution, {
      OnDemandBaseCapacity: { Ref: "RunnerOnDemandBase" },
      OnDemandPercentageAboveBaseCapacity: { Ref: "RunnerOnDemandPercent" },
      SpotAllocationStrategy: "price-capacity-optimized",
      OnDemandAllocationStrategy: "prioritized",
    });
    assert.equal(g.CapacityRebalance, true);
    assert.deepEqual(g.LifecycleHookSpecificationList, [
      {
        LifecycleHookName: "kozmic-drain",
        LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
        HeartbeatTimeout: { Ref: "RunnerDrainSeconds" },
        DefaultResult: "CONTINUE",
      },
    ]);
    template.hasParameter("RunnerDrainSeconds", { Default: 1200, MaxValue: 7200 });
    // What cdk-nag's EC26 cannot see through the mixed instances policy: an encrypted root.
    const data = propsOf(idOf("AWS::EC2::LaunchTemplate")).LaunchTemplateData as {
      BlockDeviceMappings: { Ebs: Json }[];
    };
    assert.deepEqual(
      data.BlockDeviceMappings.map((m) => m.Ebs.Encrypted),
      [true],
    );
  });

  it("the scaler: a function on a one-minute schedule that may read the job queue's depth and size the runner group, nothing else", () => {
    const scaler = idOf("AWS::Lambda::Function", { Handler: "index.scaleHandler" });
    const fn = resources()[scaler]!;
    assert.equal(fn.Condition, "HasRunnerNetwork");
    assert.equal(fn.Properties.ReservedConcurrentExecutions, 1, "one decision at a time");
    assert.deepEqual((fn.Properties.Environment as { Variables: Json }).Variables, {
      KOZMIC_QUEUE_URL: { Ref: ids.jobs },
      KOZMIC_AUTO_SCALING_GROUP: { "Fn::Join": ["", [{ Ref: "AWS::StackName" }, "-runners"]] },
      KOZMIC_RUNNER_CONCURRENCY: { Ref: "RunnerConcurrency" },
      KOZMIC_IDLE_MINUTES: { Ref: "RunnerIdleMinutes" },
      KOZMIC_ON_DEMAND_PERCENT: { Ref: "RunnerOnDemandPercent" },
    });
    template.hasParameter("RunnerIdleMinutes", { Type: "Number", Default: 10 });
    template.hasParameter("RunnerConcurrency", { Default: "2" });
    const role = (fn.Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    const logGroup = Object.keys(template.findResources("AWS::Logs::LogGroup")).filter((id) =>
      id.startsWith("ScalingScalerLogs"),
    );
    assert.deepEqual(roleStatements(role), [
      { actions: WRITE_LOGS, resources: logGroup.map(arnOf) },
      { actions: READ_DEPTH, resources: [arnOf(ids.jobs)] },
      { actions: DESCRIBE_GROUPS, resources: ["*"] },
      { actions: SCALE_GROUP, resources: [RUNNER_GROUP_ARN] },
    ]);
    assert.equal(propsOf(role).ManagedPolicyArns, undefined);
    const rule = Object.entries(template.findResources("AWS::Events::Rule")).filter(([id]) =>
      id.startsWith("Scaling"),
    );
    assert.equal(rule.length, 1);
    assert.equal(rule[0]![1].Condition, "HasRunnerNetwork");
    assert.equal(rule[0]![1].Properties.ScheduleExpression, "rate(1 minute)");
    assert.deepEqual(
      (rule[0]![1].Properties.Targets as Json[]).map((t) => t.Arn),
      [arnOf(scaler)],
    );
    const permission = Object.values(template.findResources("AWS::Lambda::Permission")).find(
      (r) => (r.Properties as Json).Principal === "events.amazonaws.com",
    );
    assert.equal(permission?.Condition, "HasRunnerNetwork");
    assert.deepEqual(permission.Properties.SourceArn, arnOf(rule[0]![0]));
    // Every resource of the scaling construct goes with the group.
    for (const [id, r] of Object.entries(resources())) {
      if (id.startsWith("Scaling")) assert.equal(r.Condition, "HasRunnerNetwork", id);
    }
  });

  it("schedules: a one-minute rule sends the planner function the schedule tick event, always (no runner group needed)", () => {
    const rules = Object.entries(template.findResources("AWS::Events::Rule")).filter(([id]) =>
      id.startsWith("Schedules"),
    );
    assert.equal(rules.length, 1);
    const [ruleId, rule] = rules[0]!;
    assert.equal(rule.Condition, undefined);
    assert.equal(rule.Properties.ScheduleExpression, "rate(1 minute)");
    assert.equal(rule.Properties.State, "ENABLED");
    const targets = rule.Properties.Targets as Json[];
    assert.deepEqual(
      targets.map((t) => [
        t.Arn,
        JSON.parse(t.Input as string),
        (t.RetryPolicy as Json)?.MaximumRetryAttempts,
      ]),
      [[arnOf(ids.planner), SCHEDULE_TICK_EVENT, 0]],
    );
    const permission = Object.values(template.findResources("AWS::Lambda::Permission")).find(
      (r) => JSON.stringify((r.Properties as Json).SourceArn) === JSON.stringify(arnOf(ruleId)),
    );
    assert.equal(permission?.Properties.Principal, "events.amazonaws.com");
    assert.deepEqual(permission.Properties.FunctionName, arnOf(ids.planner));
  });

  it("runner user data: Docker, the artifact the stack built checked by its sha256, the unit of infra/runner as it is, settings from the stack", () => {
    const data = propsOf(idOf("AWS::EC2::LaunchTemplate")).LaunchTemplateData as Json;
    const script = flatten(data.UserData);
    assert.match(script, /^#!\/bin\/bash\n/);
    assert.match(script, /dnf install -y docker amazon-cloudwatch-agent/);
    assert.match(script, /systemctl enable --now docker/);
    // The runner artifact: an asset in the bootstrap bucket, its hash from this synth.
    const s3Url = /aws s3 cp --region "\$region" --only-show-errors '([^']+)'/.exec(script)?.[1];
    assert.match(
      s3Url ?? "",
      /^<Sub s3:\/\/cdk-[a-z0-9]+-assets-\$\{AWS::AccountId\}-\$\{AWS::Region\}\/[0-9a-f]{64}\.gz>$/,
      script,
    );
    assert.ok(
      script.includes(
        `echo '${bundles.runnerArtifact.sha256}  /var/tmp/kozmic-runner.tar.gz' | sha256sum --check`,
      ),
    );
    assert.doesNotMatch(script, /git clone|npm ci|nodejs\.org/);
    const unit = readFileSync("infra/runner/kozmic-runner.service", "utf8");
    assert.ok(
      script.includes(
        `cat > /etc/systemd/system/kozmic-runner.service <<'KOZMIC_FILE_END'\n${unit}KOZMIC_FILE_END\n`,
      ),
      "the unit file, unchanged",
    );
    assert.match(script, /systemctl enable --now kozmic-runner\n/);
    const env =
      /cat > \/etc\/kozmic\/runner.env <<'KOZMIC_FILE_END'\n([\s\S]*?)KOZMIC_FILE_END/.exec(
        script,
      )?.[1];
    assert.ok(env, "runner.env is written");
    const lines = new Set(env.split("\n"));
    for (const line of [
      "APP_ID=<Ref AppId>",
      "PRIVATE_KEY_PATH=/etc/kozmic/app.pem",
      "GHE_HOST=<Ref GitHubHost>",
      "AWS_REGION=<Ref AWS::Region>",
      `KOZMIC_QUEUE_URL=<Ref ${ids.jobs}>`,
      `KOZMIC_DEAD_LETTER_QUEUE_URL=<Ref ${ids.jobDeadLetters}>`,
      `KOZMIC_PLAN_QUEUE_URL=<Ref ${ids.plans}>`,
      `KOZMIC_TABLE=<Ref ${ids.table}>`,
      `KOZMIC_CACHE_REGISTRY=${cacheUri()}`,
      `KOZMIC_MAX_RECEIVES=${DEFAULT_MAX_RECEIVES}`,
      "KOZMIC_RUNNER_CONCURRENCY=<Ref RunnerConcurrency>",
      "KOZMIC_LOG_RETENTION_DAYS=<Ref LogRetentionDays>",
      "KOZMIC_NETWORK=<Ref JobsNetwork>",
      "KOZMIC_AUTO_SCALING_GROUP=<Ref AWS::StackName>-runners",
      "KOZMIC_LIFECYCLE_HOOK=kozmic-drain",
      "KOZMIC_DRAIN_TIME=<Ref RunnerDrainSeconds>",
      `KOZMIC_ARTIFACT_BUCKET=<Ref ${ids.artifacts}>`,
    ]) {
      assert.ok(lines.has(line), `runner.env has ${line}:\n${env}`);
    }
    assert.ok(
      [...lines].some((l) =>
        /^KOZMIC_PUBLIC_URL=<If HasPublicUrl <Ref PublicUrl> <\w+\.FunctionUrl>>$/.test(l),
      ),
      "KOZMIC_PUBLIC_URL: the parameter or the function URL",
    );
    // The key comes from the secret, into a file only root and the kozmic group read.
    assert.match(script, new RegExp(`--secret-id '<Ref ${ids.runnerSecret}>'`));
    assert.match(script, /chmod 0440 \/etc\/kozmic\/app\.pem/);
  });

  it("the artifact bucket: private, S3-managed encryption, TLS only, kept with the stack gone, objects expiring with the logs", () => {
    const bucket = resources()[ids.artifacts]!;
    const props = bucket.Properties;
    assert.deepEqual(props.BucketEncryption, {
      ServerSideEncryptionConfiguration: [
        { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } },
      ],
    });
    assert.deepEqual(props.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    assert.deepEqual(props.OwnershipControls, {
      Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }],
    });
    // Named by CloudFormation: a stack deployed again after a delete makes a new bucket
    // beside the kept one, as it does for the table.
    assert.equal(props.BucketName, undefined);
    assert.equal(bucket.DeletionPolicy, "Retain");
    assert.equal(bucket.UpdateReplacePolicy, "Retain");
    // A job's artifacts go with its log: the same parameter as KOZMIC_LOG_RETENTION_DAYS.
    assert.deepEqual(props.LifecycleConfiguration, {
      Rules: [
        {
          Id: ARTIFACT_EXPIRY_RULE,
          Status: "Enabled",
          Prefix: ARTIFACT_PREFIX,
          ExpirationInDays: { Ref: "LogRetentionDays" },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    });
    assert.equal(ARTIFACT_EXPIRY_RULE, "artifacts-expire-with-the-logs");
    assert.equal(ARTIFACT_PREFIX, "artifacts/");
    // Its policy refuses plain HTTP for the bucket and every object, and stays with the bucket.
    const policies = Object.values(template.findResources("AWS::S3::BucketPolicy"));
    assert.equal(policies.length, 1);
    assert.equal(policies[0]!.DeletionPolicy, "Retain");
    const policy = policies[0]!.Properties as {
      Bucket: unknown;
      PolicyDocument: { Statement: Json[] };
    };
    assert.deepEqual(policy.Bucket, { Ref: ids.artifacts });
    assert.deepEqual(policy.PolicyDocument.Statement, [
      {
        Action: "s3:*",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
        Effect: "Deny",
        Principal: { AWS: "*" },
        Resource: [arnOf(ids.artifacts), { "Fn::Join": ["", [arnOf(ids.artifacts), "/*"]] }],
      },
    ]);
    // Its name for the webhook function (the job pages) and the runner hosts, not the planner.
    const envOf = (fn: string) =>
      (propsOf(fn).Environment as { Variables: Record<string, unknown> }).Variables;
    assert.deepEqual(envOf(ids.webhook).KOZMIC_ARTIFACT_BUCKET, { Ref: ids.artifacts });
    assert.equal(envOf(ids.planner).KOZMIC_ARTIFACT_BUCKET, undefined);
    // Only the webhook function's and the runners' roles reach it.
    const reaching = policyStatements(json)
      .filter(
        ({ type, statement }) =>
          type === "AWS::IAM::Role" &&
          JSON.stringify(statement.Resource ?? "").includes(ids.artifacts),
      )
      .map(({ resource }) => resource);
    assert.deepEqual([...new Set(reaching)].map((id) => id.replace(/[0-9A-F]{8}$/, "")).sort(), [
      "AppWebhookRole",
      "RunnersRole",
    ]);
  });

  it("the fleet install cache: an ECR repository whose images expire, emptied with the stack", () => {
    const repository = resources()[ids.cache]!;
    assert.equal(repository.DeletionPolicy, "Delete");
    assert.equal(propsOf(ids.cache).EmptyOnDelete, true);
    assert.equal(propsOf(ids.cache).ImageTagMutability, "MUTABLE");
    const policy = JSON.parse(
      (propsOf(ids.cache).LifecyclePolicy as Json).LifecyclePolicyText as string,
    ) as { rules: { rulePriority: number; selection: Json; action: Json }[] };
    const pushed = (days: number) => ({
      countType: "sinceImagePushed",
      countNumber: days,
      countUnit: "days",
    });
    assert.deepEqual(
      policy.rules.map((r) => [r.rulePriority, r.selection, r.action.type]),
      [
        [1, { tagStatus: "untagged", ...pushed(1) }, "expire"],
        [
          2,
          {
            tagStatus: "tagged",
            tagPrefixList: ["untrusted-"],
            ...pushed(UNTRUSTED_CACHE_IMAGE_DAYS),
          },
          "expire",
        ],
        [3, { tagStatus: "any", ...pushed(CACHE_IMAGE_DAYS) }, "expire"],
      ],
    );
    // Forks' installs carry the prefix the second rule names (src/core/cache-registry.ts).
    assert.match(registryTag("1", "untrusted", "0".repeat(64)), /^untrusted-/);
    const outputs = json.Outputs as Record<string, { Value: unknown }>;
    assert.equal(flatten(outputs.CacheRegistry!.Value), cacheUri());
  });

  it("the secrets key: KMS, rotated, kept with the stack gone, its policy naming each action; its id for the webhook function and runners", () => {
    const key = resources()[ids.secretsKey]!;
    assert.equal(key.DeletionPolicy, "Retain");
    assert.equal(propsOf(ids.secretsKey).EnableKeyRotation, true);
    const policy = propsOf(ids.secretsKey).KeyPolicy as { Statement: Json[] };
    assert.equal(policy.Statement.length, 1);
    const actions = asList(policy.Statement[0]!.Action) as string[];
    assert.ok(actions.includes("kms:Encrypt") && actions.includes("kms:Decrypt"));
    assert.ok(actions.includes("kms:PutKeyPolicy"), "the account can still manage the key");
    const envOf = (fn: string) =>
      (propsOf(fn).Environment as { Variables: Record<string, unknown> }).Variables;
    assert.deepEqual(envOf(ids.webhook).KOZMIC_KMS_KEY_ID, arnOf(ids.secretsKey));
    assert.equal(envOf(ids.planner).KOZMIC_KMS_KEY_ID, undefined, "the planner reads no secret");
    const data = propsOf(idOf("AWS::EC2::LaunchTemplate")).LaunchTemplateData as Json;
    assert.match(
      flatten(data.UserData),
      new RegExp(`\nKOZMIC_KMS_KEY_ID=<${ids.secretsKey}.Arn>\n`),
    );
    template.hasOutput("SecretsKeyArn", { Value: arnOf(ids.secretsKey) });
  });

  it("outputs: webhook URL, queue URLs, table, artifact bucket, secret, runner role", () => {
    const url = idOf("AWS::Lambda::Url");
    template.hasOutput("WebhookUrl", {
      Value: { "Fn::Join": ["", [{ "Fn::GetAtt": [url, "FunctionUrl"] }, "api/github/webhooks"]] },
    });
    template.hasOutput("QueueUrl", { Value: { Ref: ids.jobs } });
    template.hasOutput("DeadLetterQueueUrl", { Value: { Ref: ids.jobDeadLetters } });
    template.hasOutput("PlanQueueUrl", { Value: { Ref: ids.plans } });
    template.hasOutput("Table", { Value: { Ref: ids.table } });
    template.hasOutput("ArtifactBucket", { Value: { Ref: ids.artifacts } });
    template.hasOutput("SecretArn", { Value: { Ref: ids.secret } });
    template.hasOutput("RunnerSecretArn", { Value: { Ref: ids.runnerSecret } });
    const role = Object.keys(template.findResources("AWS::IAM::Role")).find((id) =>
      id.startsWith("RunnersRole"),
    )!;
    template.hasOutput("RunnerRoleArn", { Value: arnOf(role) });
  });
});
