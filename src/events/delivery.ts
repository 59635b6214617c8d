// What is queued for delivery and where it goes. Every queue entry carries its target (`to`):
//   ''                        the operator's WEBHOOK_URL: xline's JSON (webhook.ts), HMAC-signed
//   huawei:status:<appKey>    that Huawei app's statusUrl: its call events (HUAWEI.md §5)
//   huawei:fee:<appKey>       that Huawei app's feeUrl: its CDRs (HUAWEI.md §5b)
// Huawei targets are resolved at each attempt (the app's URL and secret as they are then), so a
// changed secret or URL applies to retries; the stream, retries, dead letters and resend are the
// same for every target.
import { reportTime } from '../domain/wall-clock.js';
import type { CallEventType } from './types.js';

export type HuaweiEventType = 'callin' | 'callout' | 'alerting' | 'answer' | 'disconnect' | 'collectInfo' | 'fee';
export type DeliveredType = CallEventType | 'cdr' | HuaweiEventType;

/** An entry produced beside a call event or CDR, in the same atomic step (and only with it). */
export interface Delivery {
  /** Stable id (retries and dead letters keep it); unique across targets. */
  id: string;
  type: DeliveredType;
  to: string;
  /** The exact JSON POSTed. */
  body: string;
  /**
   * Not sent now: kept with the live call and sent only if its instance dies and another one
   * reaps it (reaper.ts), with RELEASE_MARK in the body replaced by the release time.
   */
  ifLost?: true;
}

/** The release time of an `ifLost` delivery as built (UTC `yyyy-MM-dd HH:mm:ss` of epoch 0): the reaper puts the real one in. */
export const RELEASE_MARK_MS = 0;
const RELEASE_MARK = reportTime(RELEASE_MARK_MS, 'UTC');

/** An `ifLost` delivery as sent for a call released at `releaseAt`. */
export function lostDelivery(d: Delivery, releaseAt: number): Delivery {
  const { ifLost: _lost, ...rest } = d;
  return { ...rest, body: d.body.replaceAll(RELEASE_MARK, reportTime(releaseAt, 'UTC')) };
}

export type HuaweiUrlKind = 'status' | 'fee';

export const huaweiTarget = (kind: HuaweiUrlKind, appKey: string) => `huawei:${kind}:${appKey}`;

export type Target = { kind: 'webhook' } | { kind: 'huawei'; url: HuaweiUrlKind; appKey: string } | { kind: 'unknown'; to: string };

export function parseTarget(to: string | undefined): Target {
  if (!to) return { kind: 'webhook' };
  const m = /^huawei:(status|fee):(.+)$/.exec(to);
  return m ? { kind: 'huawei', url: m[1] as HuaweiUrlKind, appKey: m[2]! } : { kind: 'unknown', to };
}
