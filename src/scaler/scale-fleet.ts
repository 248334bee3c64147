import {
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  type AutoScalingClient,
} from "@aws-sdk/client-auto-scaling";
import {
  GetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { decideCapacity, type CapacityDecision, type FleetView } from "../core/fleet-capacity.js";
import type { ScalerSettings } from "../settings/scaler-settings.js";

/** The group tag that keeps the surplus's start between runs of the scaler. */
export const SURPLUS_TAG = "kozmic:surplus-since";

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
  const tagged = group.Tags?.find((t) => t.Key === SURPLUS_TAG)?.Value;
  const surplusSince = tagged === undefined ? undefined : Date.parse(tagged);
  const decision = decideCapacity(
    view,
    settings,
    deps.now(),
    surplusSince === undefined || Number.isNaN(surplusSince) ? undefined : surplusSince,
  );

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
  const tag = {
    ResourceId: settings.groupName,
    ResourceType: "auto-scaling-group",
    Key: SURPLUS_TAG,
    PropagateAtLaunch: false,
  };
  if (decision.surplusSince !== undefined && decision.surplusSince !== surplusSince) {
    const Value = new Date(decision.surplusSince).toISOString();
    await autoScaling.send(new CreateOrUpdateTagsCommand({ Tags: [{ ...tag, Value }] }));
  } else if (decision.surplusSince === undefined && tagged !== undefined) {
    await autoScaling.send(new DeleteTagsCommand({ Tags: [tag] }));
  }
  return { ...decision, view, changed };
}
