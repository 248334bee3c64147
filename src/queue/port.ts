import type { JobMessage } from "../core/job-message.js";

/** A message handed to a consumer; it stays hidden from others until its visibility ends. */
export interface ReceivedMessage<M> {
  /** Stable id of the message across redeliveries. */
  messageId: string;
  /** Handle of this delivery, for `extendVisibility` and `delete`. */
  receipt: string;
  /** How many times the message has been received, this delivery included. */
  receiveCount: number;
  body: M;
}

export type ReceivedJob = ReceivedMessage<JobMessage>;

export interface ReceiveOptions {
  maxMessages?: number;
  /** Long-poll: wait up to this many seconds for a message. */
  waitSeconds?: number;
  /** How long the received messages stay hidden. */
  visibilitySeconds?: number;
  signal?: AbortSignal;
}

/**
 * A queue of messages of one kind (jobs for runners, planning messages for planners):
 * at-least-once delivery with visibility timeouts and a dead-letter queue. Bodies are
 * validated on send and receive; a malformed body is moved to the dead-letter queue with a
 * log line and never returned to the consumer.
 */
export interface Queue<M = JobMessage> {
  send(message: M, options?: { delaySeconds?: number }): Promise<string>;
  sendBatch(messages: M[]): Promise<string[]>;
  receive(options?: ReceiveOptions): Promise<ReceivedMessage<M>[]>;
  /** Heartbeat: keep the message hidden for `seconds` more from now. */
  extendVisibility(receipt: string, seconds: number): Promise<void>;
  /** Acknowledge: the message is gone for good. */
  delete(receipt: string): Promise<void>;
  close(): Promise<void>;
}

/** A message the queue gave up on: received too often, or not a valid job message. */
export interface DeadLetter {
  messageId: string;
  /** The body exactly as it was sent. */
  rawBody: string;
  receiveCount: number;
}

/** Where adapters report what they moved aside (malformed or poison messages). */
export type QueueLog = (line: string) => void;

/**
 * Operations for tests and operators: send a body that skips validation, and read what
 * was dead-lettered. Every adapter implements them.
 */
export interface InspectableQueue<M = JobMessage> extends Queue<M> {
  sendRaw(body: string): Promise<string>;
  /** Reads (and removes) up to `max` dead letters. */
  receiveDeadLetters(max?: number): Promise<DeadLetter[]>;
}
