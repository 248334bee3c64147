import { after } from "node:test";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ensureSqsQueues, openSqsQueue, uniqueQueueName } from "../../src/queue/sqs-queue.js";
import { testServices } from "../support/services.js";
import { defineQueueContract } from "./queue-contract.js";

const services = testServices();
const client = new SQSClient({ endpoint: services.sqsEndpoint, region: services.region });
after(() => client.destroy());

defineQueueContract("SQS (ElasticMQ)", async ({ maxReceives, log }) => {
  const urls = await ensureSqsQueues(client, uniqueQueueName("contract"), maxReceives);
  return openSqsQueue({ ...urls, client, log });
});
