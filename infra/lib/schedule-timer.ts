import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { SCHEDULE_TICK_EVENT } from "../../src/core/schedules.js";

export interface ScheduleTimerProps {
  /**
   * The planner function: its handler fires the due schedules on SCHEDULE_TICK_EVENT, sending
   * each to the planning queue (its role may: ./app-functions.ts).
   */
  planner: lambda.Function;
}

/** Cron's grain: a tick is fired within this after its time. */
export const SCHEDULE_RATE = Duration.minutes(1);

/**
 * Schedules (`schedule:` in kozmic.yml) on AWS: an EventBridge rule sends the planner
 * function SCHEDULE_TICK_EVENT every minute, and the function hands each due tick to the
 * planning queue (src/planner/fire-schedules.ts) as `kozmic serve`'s timer does. Two
 * invocations at once fire a tick once: its delivery id is a conditional write.
 */
export class ScheduleTimer extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ScheduleTimerProps) {
    super(scope, id);
    this.rule = new events.Rule(this, "Rule", {
      description: "Fires the due Kozmic schedules",
      schedule: events.Schedule.rate(SCHEDULE_RATE),
      targets: [
        new targets.LambdaFunction(props.planner, {
          event: events.RuleTargetInput.fromObject(SCHEDULE_TICK_EVENT),
          // The next minute's run fires what this one missed.
          retryAttempts: 0,
        }),
      ],
    });
  }
}
