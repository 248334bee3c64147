import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  SetInstanceProtectionCommand,
} from "@aws-sdk/client-auto-scaling";

/**
 * CompleteLifecycleAction with CONTINUE for this host: the group terminates it now instead
 * of at the hook's timeout. The SDK finds the region and credentials as usual (the host's
 * role); AWS_ENDPOINT_URL_AUTO_SCALING points it elsewhere.
 */
export function lifecycleActionCompleter(
  groupName: string,
  hookName: string,
  client: AutoScalingClient = new AutoScalingClient({}),
): (instanceId: string) => Promise<void> {
  return async (instanceId) => {
    await client.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: groupName,
        LifecycleHookName: hookName,
        InstanceId: instanceId,
        LifecycleActionResult: "CONTINUE",
      }),
    );
  };
}

/** SetInstanceProtection (from scale-in) for this host in its group. */
export function scaleInProtector(
  groupName: string,
  client: AutoScalingClient = new AutoScalingClient({}),
): (instanceId: string, on: boolean) => Promise<void> {
  return async (instanceId, on) => {
    await client.send(
      new SetInstanceProtectionCommand({
        AutoScalingGroupName: groupName,
        InstanceIds: [instanceId],
        ProtectedFromScaleIn: on,
      }),
    );
  };
}
