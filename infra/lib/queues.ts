import { Duration, Fn } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface QueuesProps {
  /** The job queue's name; the others are named after it as the settings expect. */
  name: string;
  /** The runner's KOZMIC_MAX_RECEIVES: the job queue's redrive maxReceiveCount. */
  jobMaxReceives: number;
  /** PLAN_MAX_RECEIVES: the planning queue's redrive maxReceiveCount. */
  planMaxReceives: number;
  /** The planning queue's visibility timeout, which a Lambda event source needs ≥ 6 × its function's timeout. */
  planVisibility: Duration;
}

/** A queue with its dead-letter queue and an alarm as soon as a message is dead-lettered. */
export interface QueueWithDeadLetters {
  queue: sqs.Queue;
  deadLetters: sqs.Queue;
  alarm: cloudwatch.Alarm;
}

/**
 * The job queue and the planning queue, each with its dead-letter queue. Names follow the
 * settings' defaults (src/settings/storage-settings.ts): `<name>-dead-letters`,
 * `<name>-plans` and `<name>-plans-dead-letters`, so a URL left unset still finds its queue.
 */
export class KozmicQueues extends Construct {
  readonly jobs: QueueWithDeadLetters;
  readonly plans: QueueWithDeadLetters;

  constructor(scope: Construct, id: string, props: QueuesProps) {
    super(scope, id);
    const named = (suffix: string) => (suffix ? Fn.join("", [props.name, suffix]) : props.name);
    this.jobs = this.queueWithDeadLetters("Jobs", {
      name: named(""),
      deadLetterName: named("-dead-letters"),
      maxReceives: props.jobMaxReceives,
      // The runner sets a message's visibility on every receive (its lease + 2 s); this is
      // only what another consumer would get.
      visibility: Duration.seconds(60),
      what: "job",
    });
    this.plans = this.queueWithDeadLetters("Plans", {
      name: named("-plans"),
      deadLetterName: named("-plans-dead-letters"),
      maxReceives: props.planMaxReceives,
      visibility: props.planVisibility,
      what: "planning",
    });
  }

  private queueWithDeadLetters(
    id: string,
    o: {
      name: string;
      deadLetterName: string;
      maxReceives: number;
      visibility: Duration;
      what: string;
    },
  ): QueueWithDeadLetters {
    const deadLetters = new sqs.Queue(this, `${id}DeadLetters`, {
      queueName: o.deadLetterName,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const queue = new sqs.Queue(this, id, {
      queueName: o.name,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: o.visibility,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: o.maxReceives },
    });
    const alarm = new cloudwatch.Alarm(this, `${id}DeadLettersAlarm`, {
      alarmDescription: `A ${o.what} message was dead-lettered after ${o.maxReceives} receives: read it from the dead-letter queue to see why.`,
      metric: deadLetters.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    return { queue, deadLetters, alarm };
  }
}
