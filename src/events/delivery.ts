// What is queued for delivery and where it goes. Every queue entry carries its target (`to`):
//   ''                        the operator's WEBHOOK_URL: xline's JSON (webhook.ts), HMAC-signed
//   huawei:status:<appKey>    that Huawei app's statusUrl: its call events (HUAWEI.md §5)
//   huawei:fee:<appKey>       that Huawei app's feeUrl: its CDRs (HUAWEI.md §5b)
// Huawei targets are resolved at each attempt (the app's URL and secret as they are then), so a
// changed secret or URL applies to retries; the stream, retries, dead letters and resend are the
// same for every target.
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
}

export type HuaweiUrlKind = 'status' | 'fee';

export const huaweiTarget = (kind: HuaweiUrlKind, appKey: string) => `huawei:${kind}:${appKey}`;

export type Target = { kind: 'webhook' } | { kind: 'huawei'; url: HuaweiUrlKind; appKey: string } | { kind: 'unknown'; to: string };

export function parseTarget(to: string | undefined): Target {
  if (!to) return { kind: 'webhook' };
  const m = /^huawei:(status|fee):(.+)$/.exec(to);
  return m ? { kind: 'huawei', url: m[1] as HuaweiUrlKind, appKey: m[2]! } : { kind: 'unknown', to };
}
