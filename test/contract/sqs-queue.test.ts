import { after } from "node:test";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ensureSqsQueues, openSqsQueue, uniqueQueueName } from "../../src/queue/sqs-queue.js";
import { testServices } from "../support/services.js";
import {
  defineQueueContract,
  type MakeQueue,
  type QueueContractOptions,
} from "./queue-contract.js";

const services = testServices();
const client = new SQSClient({ endpoint: services.sqsEndpoint, region: services.region });
after(() => client.destroy());

defineQueueContract("SQS (ElasticMQ)", (async (
  options: QueueContractOptions & { kind?: never },
) => {
  const urls = await ensureSqsQueues(client, uniqueQueueName("contract"), options.maxReceives);
  return openSqsQueue({
    ...urls,
    client,
    log: options.log,
    ...(options.kind ? { kind: options.kind } : {}),
  });
}) as MakeQueue);
