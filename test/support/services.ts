/** Endpoints of the test services started by `start_services` (test/support/services.sh). */
export interface TestServices {
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  region: string;
}

export function testServices(env: NodeJS.ProcessEnv = process.env): TestServices {
  const sqsEndpoint = env.AWS_ENDPOINT_URL_SQS;
  const dynamodbEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB;
  const region = env.AWS_REGION;
  if (!sqsEndpoint || !dynamodbEndpoint || !region) {
    throw new Error(
      "ElasticMQ and DynamoDB Local are not running (AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB or AWS_REGION is unset). " +
        "Run the tests with `npm test`, or by hand: source test/support/services.sh && start_services && node --import tsx --test <file>",
    );
  }
  for (const url of [sqsEndpoint, dynamodbEndpoint]) {
    const host = new URL(url).hostname;
    if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") {
      throw new Error(`test services must run on this machine, not at ${url}`);
    }
  }
  return { sqsEndpoint, dynamodbEndpoint, region };
}
