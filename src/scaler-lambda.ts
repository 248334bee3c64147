import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { SQSClient } from "@aws-sdk/client-sqs";
import { scaleFleet, type ScaleResult } from "./scaler/scale-fleet.js";
import { readScalerSettings } from "./settings/scaler-settings.js";

let clients: { sqs: SQSClient; autoScaling: AutoScalingClient } | undefined;

/**
 * The scaler function, run every minute by an EventBridge schedule: sizes the runner group
 * by the job queue. Its one JSON log line says what it saw and why it decided.
 */
export async function scaleHandler(): Promise<ScaleResult> {
  const settings = readScalerSettings(process.env);
  clients ??= { sqs: new SQSClient({}), autoScaling: new AutoScalingClient({}) };
  const result = await scaleFleet({ ...clients, settings, now: Date.now });
  console.log(JSON.stringify({ msg: "scaled", ...result }));
  return result;
}
