// What a webhook receiver gets: the JSON body of each POST, its id, and the HMAC signature.
// The body of one event is fixed when the event is produced, so every retry sends the same bytes.
//
// Headers of every POST:
//   Content-Type: application/json
//   X-Xline-Event-Id:    stable id, `${call_id}:${type}` — dedupe on it (retries reuse it)
//   X-Xline-Event-Type:  start | ring | answer | hangup | recording | cdr
//   X-Xline-Attempt:     1 for the first POST, 2 for the first retry, …
//   X-Xline-Timestamp:   unix seconds when this POST was signed
//   X-Xline-Signature:   sha256=<hex HMAC-SHA256(WEBHOOK_SECRET, `${timestamp}.${raw body}`)>
// A receiver recomputes the signature over the raw body, compares in constant time, and rejects
// timestamps more than 5 minutes from its clock (replays).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DeliveredType } from './delivery.js';
import type { CallEvent, CallRecord } from './types.js';

export type { DeliveredType } from './delivery.js';

/** Alibaba's name for the matching receipt, so receivers ported from Alibaba find their way. */
const ALIBABA_REPORT: Partial<Record<DeliveredType, string>> = {
  start: 'SecretStartReport',
  ring: 'SecretRingReport',
  answer: 'SecretPickUpReport',
  recording: 'SecretRecording',
  cdr: 'SecretReport',
};

export const eventId = (callId: string, type: DeliveredType) => `${callId}:${type}`;

export interface Envelope {
  id: string;
  type: DeliveredType;
  body: string;
}

/** `{id, type, report?, occurred_at, event}` — occurred_at in unix ms. */
export function eventEnvelope(e: CallEvent): Envelope {
  const id = eventId(e.call_id, e.type);
  const report = ALIBABA_REPORT[e.type];
  return { id, type: e.type, body: JSON.stringify({ id, type: e.type, ...(report ? { report } : {}), occurred_at: e.at, event: e }) };
}

/** `{id, type: "cdr", report: "SecretReport", occurred_at, cdr}` — occurred_at: when it was recorded. */
export function cdrEnvelope(r: CallRecord, recordedAt: number): Envelope {
  const id = eventId(r.call_id, 'cdr');
  return { id, type: 'cdr', body: JSON.stringify({ id, type: 'cdr', report: 'SecretReport', occurred_at: recordedAt, cdr: r }) };
}

export function signWebhook(secret: string, timestampSec: number, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestampSec}.${body}`).digest('hex');
}

export const REPLAY_WINDOW_SEC = 300;

/**
 * What a receiver does (exported for tests and for JavaScript receivers): true when the signature
 * matches the raw body and the timestamp is within the replay window of `nowSec`.
 */
export function verifyWebhook(opts: {
  secret: string;
  body: string | Buffer;
  timestamp: string | undefined;
  signature: string | undefined;
  nowSec?: number;
  toleranceSec?: number;
}): boolean {
  const ts = Number(opts.timestamp);
  if (!opts.timestamp || !Number.isInteger(ts) || !opts.signature) return false;
  const now = opts.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (opts.toleranceSec ?? REPLAY_WINDOW_SEC)) return false;
  const expected = Buffer.from(signWebhook(opts.secret, ts, opts.body.toString()));
  const got = Buffer.from(opts.signature);
  return got.length === expected.length && timingSafeEqual(got, expected);
}
