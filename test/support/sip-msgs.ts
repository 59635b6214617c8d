// Small readers of what sipp logged (test/support/sipp.ts), for tests that drive real xline
// processes: the final answer to the caller's INVITE, its Q.850 cause, the Call-IDs sent.
import type { SipMsg, SippResult } from './sipp.js';

/** The caller's first final response to its INVITE. */
export function finalToInvite(r: SippResult): SipMsg | undefined {
  return r.messages.find((m) => m.direction === 'received' && m.status !== undefined && m.status >= 200 && /INVITE/.test(m.header('cseq') ?? ''));
}

/** The cause of a `Reason: Q.850;cause=N` header. */
export function q850Cause(m: SipMsg | undefined): number | undefined {
  const c = /cause=(\d+)/.exec(m?.header('reason') ?? '');
  return c ? Number(c[1]) : undefined;
}

/** Call-IDs of the INVITEs a sipp UAC sent (or a UAS received, with 'received'). */
export function inviteCallIds(r: SippResult, direction: 'sent' | 'received' = 'sent'): string[] {
  return [...new Set(r.messages.filter((m) => m.direction === direction && m.method === 'INVITE').map((m) => m.header('call-id')!))];
}

let seq = 0;
/** A valid CN mobile number, distinct per call within a test process. */
export function cnMobile(prefix: '138' | '139' | '177'): string {
  seq = (seq + 1) % 10_000;
  return `${prefix}${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}${String(seq).padStart(4, '0')}`;
}
