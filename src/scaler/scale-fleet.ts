import {
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  SetDesiredCapacityCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
  type Tag,
} from "@aws-sdk/client-auto-scaling";
import {
  GetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { decideCapacity, type CapacityDecision, type FleetView } from "../core/fleet-capacity.js";
import { decideOnDemandShare, type SpotFallbackDecision } from "../core/spot-fallback.js";
import type { ScalerSettings } from "../settings/scaler-settings.js";

/** The group tag that keeps the surplus's start between runs of the scaler. */
export const SURPLUS_TAG = "kozmic:surplus-since";
/** The group tag that says until when the group runs on-demand for want of spot hosts. */
export const ON_DEMAND_TAG = "kozmic:on-demand-until";
/** Spot is tried again this long after the last launch that found no spot capacity. */
const SPOT_HOLD_MS = 30 * 60_000;
/** Failed launches older than this no longer count. */
const SPOT_LOOKBACK_MS = 10 * 60_000;

export interface ScaleFleetDeps {
  sqs: SQSClient;
  autoScaling: AutoScalingClient;
  settings: ScalerSettings;
  now: () => number;
}

export interface ScaleResult extends CapacityDecision {
  view: FleetView;
  /** Whether SetDesiredCapacity was called. */
  changed: boolean;
  /** The on-demand fallback's decision, for a group that may run spot hosts. */
  spot?: SpotFallbackDecision & { changed: boolean };
}

/**
 * One run of the scaler: reads the job queue's depth and the runner group, decides
 * (src/core/fleet-capacity.ts), and sets the group's desired capacity when it changes.
 * The surplus's start is kept as a tag on the group, so the function holds no state.
 */
export async function scaleFleet(deps: ScaleFleetDeps): Promise<ScaleResult> {
  const { sqs, autoScaling, settings } = deps;
  const [attributes, groups] = await Promise.all([
    sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: settings.queueUrl,
        AttributeNames: [
          "ApproximateNumberOfMessages",
          "ApproximateNumberOfMessagesNotVisible",
          "ApproximateNumberOfMessagesDelayed",
        ],
      }),
    ),
    autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [settings.groupName] }),
    ),
  ]);
  const group = groups.AutoScalingGroups?.[0];
  if (!group) throw new Error(`the Auto Scaling group ${settings.groupName} does not exist`);
  const count = (name: QueueAttributeName) => Number(attributes.Attributes?.[name] ?? 0) || 0;
  const view: FleetView = {
    waiting: count("ApproximateNumberOfMessages") + count("ApproximateNumberOfMessagesDelayed"),
    running: count("ApproximateNumberOfMessagesNotVisible"),
    desired: group.DesiredCapacity ?? 0,
    draining: (group.Instances ?? []).filter((i) => i.LifecycleState?.startsWith("Terminating"))
      .length,
    minHosts: group.MinSize ?? 0,
    maxHosts: group.MaxSize ?? 0,
  };
  const decision = decideCapacity(view, settings, deps.now(), readTime(group, SURPLUS_TAG));

  const changed = decision.desired !== view.desired;
  if (changed) {
    await autoScaling.send(
      new SetDesiredCapacityCommand({
        AutoScalingGroupName: settings.groupName,
        DesiredCapacity: decision.desired,
        HonorCooldown: false,
      }),
    );
  }
  await keepTime(deps, group, SURPLUS_TAG, decision.surplusSince);
  const spot = await fallBackToOnDemand(deps, group);
  return { ...decision, view, changed, ...(spot ? { spot } : {}) };
}

function readTime(group: AutoScalingGroup, key: string): number | undefined {
  const value = group.Tags?.find((t) => t.Key === key)?.Value;
  const time = value === undefined ? NaN : Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

/** Keeps a time between the scaler's runs as a tag on the group (removed when undefined). */
async function keepTime(
  { autoScaling, settings }: ScaleFleetDeps,
  group: AutoScalingGroup,
  key: string,
  time: number | undefined,
): Promise<void> {
  const tagged = group.Tags?.find((t) => t.Key === key)?.Value;
  const tag: Tag = {
    ResourceId: settings.groupName,
    ResourceType: "auto-scaling-group",
    Key: key,
    PropagateAtLaunch: false,
  };
  if (time !== undefined && time !== readTime(group, key)) {
    const Value = new Date(time).toISOString();
    await autoScaling.send(new CreateOrUpdateTagsCommand({ Tags: [{ ...tag, Value }] }));
  } else if (time === undefined && tagged !== undefined) {
    await autoScaling.send(new DeleteTagsCommand({ Tags: [tag] }));
  }
}

/**
 * For a group that may run spot hosts (a mixed instances policy and KOZMIC_ON_DEMAND_PERCENT
 * below 100): all on-demand while its recent launches found no spot capacity
 * (src/core/spot-fallback.ts), the configured share again once spot had time to come back.
 */
async function fallBackToOnDemand(
  deps: ScaleFleetDeps,
  group: AutoScalingGroup,
): Promise<(SpotFallbackDecision & { changed: boolean }) | undefined> {
  const { autoScaling, settings } = deps;
  const current =
    group.MixedInstancesPolicy?.InstancesDistribution?.OnDemandPercentageAboveBaseCapacity;
  if (settings.onDemandPercent === undefined || current === undefined) return undefined;
  const { Activities = [] } = await autoScaling.send(
    new DescribeScalingActivitiesCommand({
      AutoScalingGroupName: settings.groupName,
      MaxRecords: 20,
    }),
  );
  const activities = Activities.map((a) => ({
    at: a.StartTime?.getTime() ?? 0,
    failed: a.StatusCode === "Failed" || a.StatusCode === "Cancelled",
    message: `${a.StatusMessage ?? ""} ${a.Description ?? ""}`,
  }));
  const decision = decideOnDemandShare(
    activities,
    current,
    {
      configuredPercent: settings.onDemandPercent,
      holdMs: SPOT_HOLD_MS,
      lookbackMs: SPOT_LOOKBACK_MS,
    },
    deps.now(),
    readTime(group, ON_DEMAND_TAG),
  );
  const changed = decision.onDemandPercent !== current;
  if (changed) {
    await autoScaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: settings.groupName,
        MixedInstancesPolicy: {
          InstancesDistribution: {
            OnDemandPercentageAboveBaseCapacity: decision.onDemandPercent,
          },
        },
      }),
    );
  }
  await keepTime(deps, group, ON_DEMAND_TAG, decision.until);
  return { ...decision, changed };
}
