/**
 * Why KOZMIC_MAX_RECEIVES does not fit the SQS job queue's redrive policy, or undefined when
 * it does. `policy` is the queue's RedrivePolicy attribute (JSON), undefined when it has none.
 *
 * They must be equal: the runner treats receive number KOZMIC_MAX_RECEIVES as a job's last
 * and completes its check run, while SQS dead-letters a message after maxReceiveCount
 * receives. With a larger setting SQS takes the job away before its last attempt and its
 * check run is never completed; with a smaller one the runner gives up early.
 */
export function redriveMismatch(
  maxReceives: number,
  queueUrl: string,
  policy: string | undefined,
): string | undefined {
  const setting = `KOZMIC_MAX_RECEIVES is ${maxReceives}`;
  if (policy === undefined) {
    return (
      `${setting} but the SQS job queue ${queueUrl} has no redrive policy, so SQS never ` +
      `dead-letters a job that keeps failing: give the queue a RedrivePolicy with ` +
      `maxReceiveCount ${maxReceives} and a dead-letter queue (ensureSqsQueues in ` +
      `src/queue/sqs-queue.ts creates both)`
    );
  }
  const limit = maxReceiveCount(policy);
  if (limit === undefined) {
    return (
      `${setting} but the redrive policy of the SQS job queue ${queueUrl} has no ` +
      `maxReceiveCount (RedrivePolicy: ${policy}): set its maxReceiveCount to ${maxReceives}`
    );
  }
  if (limit === maxReceives) return undefined;
  return (
    `${setting} but the SQS job queue ${queueUrl} dead-letters a message after ${limit} ` +
    `receives (RedrivePolicy maxReceiveCount ${limit}). They must be equal: ` +
    (maxReceives > limit
      ? "SQS would dead-letter a failing job before the runner's last attempt, and its check run would never be completed. "
      : "the runner would give up on a job that SQS still retries. ") +
    `Set KOZMIC_MAX_RECEIVES=${limit}, or change the queue's maxReceiveCount to ${maxReceives}.`
  );
}

/** A RedrivePolicy's maxReceiveCount; SQS writes it as a number or a string of digits. */
export function maxReceiveCount(policy: string): number | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(policy);
  } catch {
    return undefined;
  }
  const value = (parsed as { maxReceiveCount?: unknown } | null)?.maxReceiveCount;
  const count = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  return typeof count === "number" && Number.isInteger(count) && count > 0 ? count : undefined;
}
