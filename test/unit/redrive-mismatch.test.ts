import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redriveMismatch } from "../../src/queue/redrive-mismatch.js";

const URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/kozmic-jobs";
const policy = (maxReceiveCount: unknown) =>
  JSON.stringify({
    deadLetterTargetArn: "arn:aws:sqs:eu-west-1:123456789012:kozmic-jobs-dead-letters",
    maxReceiveCount,
  });

describe("redriveMismatch: KOZMIC_MAX_RECEIVES against the queue's maxReceiveCount", () => {
  it("fits when they are equal, whether SQS writes a number or a string", () => {
    assert.equal(redriveMismatch(5, URL, policy(5)), undefined);
    assert.equal(redriveMismatch(5, URL, policy("5")), undefined);
  });

  it("a larger setting: both numbers, the queue, what goes wrong and both ways to fix it", () => {
    const message = redriveMismatch(7, URL, policy(5));
    assert.equal(
      message,
      `KOZMIC_MAX_RECEIVES is 7 but the SQS job queue ${URL} dead-letters a message after 5 receives ` +
        "(RedrivePolicy maxReceiveCount 5). They must be equal: SQS would dead-letter a failing job " +
        "before the runner's last attempt, and its check run would never be completed. " +
        "Set KOZMIC_MAX_RECEIVES=5, or change the queue's maxReceiveCount to 7.",
    );
  });

  it("a smaller setting says the runner would give up early", () => {
    const message = redriveMismatch(3, URL, policy("10"));
    assert.match(message ?? "", /KOZMIC_MAX_RECEIVES is 3 .* after 10 receives/);
    assert.match(message ?? "", /give up on a job that SQS still retries/);
    assert.match(
      message ?? "",
      /Set KOZMIC_MAX_RECEIVES=10, or change the queue's maxReceiveCount to 3\./,
    );
  });

  it("a queue without a redrive policy: tells how to give it one", () => {
    assert.match(
      redriveMismatch(5, URL, undefined) ?? "",
      /^KOZMIC_MAX_RECEIVES is 5 but the SQS job queue .* has no redrive policy.*maxReceiveCount 5.*ensureSqsQueues/,
    );
  });

  it("a policy without a usable maxReceiveCount", () => {
    for (const bad of ["not json", "null", policy(undefined), policy("five"), policy(0)]) {
      assert.match(
        redriveMismatch(5, URL, bad) ?? "",
        /has no maxReceiveCount .*: set its maxReceiveCount to 5/,
        bad,
      );
    }
  });
});
