// Two dialogs of one call wired to each other: a BYE on one ends the call (the teardown BYEs the
// other), re-INVITE / UPDATE / INFO are relayed leg to leg through the call's SDP rewrite (and
// the media relay when one is configured), REFER is refused, and the call has a longest duration
// (with the binding's last-minute tone before it).
// Flows with FreeSWITCH in the media path wire each dialog to it instead (wireDialog alone).
import Srf from 'drachtio-srf';
import type { Logger } from '../log.js';
import type { CallSdp, Side } from './call-sdp.js';
import { Q850 } from '../domain/route.js';
import type { CallLimit } from '../domain/call-features.js';
import { RELEASE_DIR, type CallEnding } from './media-call.js';
import { parseQ850 } from './q850.js';

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;
type Dialog = Srf.Dialog;

/** The Content-Type of every SDP body xline sends in a dialog. */
export const SDP = { 'Content-Type': 'application/sdp' };

/** Headers that cross from one leg to the other; identity, routing and transaction state never do. */
const IN_DIALOG_PASS = ['Content-Type', 'Content-Disposition', 'Event', 'Info-Package', 'Recv-Info'];

export const otherSide = (s: Side): Side => (s === 'a' ? 'b' : 'a');

export interface DialogHandlers {
  /** The far end hung up (BYE): its Q.850 cause (16 when it gave none) and its Reason header. */
  ended(cause: number, reason: string | undefined): void;
  modify(req: Req, res: Res): void;
  info(req: Req, res: Res): void;
  update?(req: Req, res: Res): void;
}

/** One dialog's in-dialog requests; REFER is refused (a transfer would leave xline's control). */
export function wireDialog(dlg: Dialog, h: DialogHandlers): void {
  dlg.on('destroy', (bye: Req) => {
    const reason = bye?.get?.('Reason');
    h.ended(parseQ850(reason) ?? Q850.NORMAL_CLEARING, reason);
  });
  dlg.on('modify', (req: Req, res: Res) => h.modify(req, res));
  dlg.on('info', (req: Req, res: Res) => h.info(req, res));
  if (h.update) dlg.on('update', (req: Req, res: Res) => h.update!(req, res));
  dlg.on('refer', (_req: Req, res: Res) => res.send(603));
}

/** What a relay needs of the call: its SDP rewrite (and relay) and its logger. */
export interface RelayContext {
  sdp: CallSdp;
  log: () => Logger;
}

/** Wires the caller's dialog `a` and B's `b` to each other; `ended(side, …)` says which hung up. */
export function wireLegs(c: RelayContext, a: Dialog, b: Dialog, ended: (side: Side, cause: number, reason: string | undefined) => void): void {
  const legs = { a, b };
  for (const side of ['a', 'b'] as const) {
    const from = legs[side];
    const to = legs[otherSide(side)];
    wireDialog(from, {
      ended: (cause, reason) => ended(side, cause, reason),
      modify: (req, res) => void relayReinvite(c, side, from, to, req, res),
      update: (req, res) => void relayRequest(c, 'UPDATE', side, to, req, res),
      info: (req, res) => void relayRequest(c, 'INFO', side, to, req, res),
    });
  }
}

/** A re-INVITE from `side` (dialog `from`) offered to the other party; its answer returned the same way. */
export async function relayReinvite(p: RelayContext, side: Side, from: Dialog, to: Dialog | undefined, req: Req, res: Res): Promise<void> {
  try {
    if (!req.body || !to?.connected) {
      // Offerless re-INVITE (or nobody to ask): answer with what this side already has.
      res.send(200, { body: from.local.sdp, headers: SDP });
      return;
    }
    const answer = await to.modify(await p.sdp.offer(side, req.body));
    const sdp = await p.sdp.answer(otherSide(side), answer);
    from.local.sdp = sdp;
    res.send(200, { body: sdp, headers: SDP });
  } catch (err) {
    p.log().info({ err: String(err) }, 'Legs:re-INVITE relay failed');
    res.send(err instanceof Srf.SipError ? err.status : 500);
  }
}

/** An UPDATE or INFO from `side` sent on to the other party; its response relayed back. */
export async function relayRequest(p: RelayContext, method: 'UPDATE' | 'INFO', side: Side, to: Dialog | undefined, req: Req, res: Res): Promise<void> {
  if (!to?.connected) return void res.send(481);
  try {
    const headers: Record<string, string> = {};
    for (const h of IN_DIALOG_PASS) if (req.has(h)) headers[h] = req.get(h);
    // An UPDATE with SDP is an offer (RFC 3311): through the relay and the rewrite both ways.
    const offer = method === 'UPDATE' && req.body && isSdp(req) ? await p.sdp.offer(side, req.body) : req.body;
    const r = await to.request({ method, headers, ...(offer ? { body: offer } : {}) });
    const back: Record<string, string> = {};
    if (r.body && r.has('Content-Type')) back['Content-Type'] = r.get('Content-Type');
    const body = r.body && offer !== req.body && r.status < 300 && isSdp(r) ? await p.sdp.answer(otherSide(side), r.body) : r.body;
    res.send(r.status, { headers: back, ...(body ? { body } : {}) });
  } catch (err) {
    p.log().info({ err: String(err), method }, 'Legs:in-dialog relay failed');
    res.send(500);
  }
}

/** Control type of a call the platform ended at its longest duration (Huawei's stateCode 8010). */
export const MAX_DURATION = 'max-duration';

/**
 * The longest a connected call may last (SIP_MAX_CALL_SECONDS, or the binding's maxDuration when
 * smaller), and the binding's last-minute tone before it: `expire` gets the ending (platform,
 * cause 16, control type max-duration). Timers from answer; the caller clears them on end.
 */
export function maxDurationTimers(limit: CallLimit, log: () => Logger, on: { expire(e: CallEnding): void; lastMinute?(): void }): NodeJS.Timeout[] {
  const timers = [
    setTimeout(() => {
      log().info({ limitSec: limit.seconds, byBinding: limit.byBinding }, 'Legs:max call duration reached');
      on.expire({
        dir: RELEASE_DIR.PLATFORM,
        cause: Q850.NORMAL_CLEARING,
        outcome: 'answered',
        controlType: MAX_DURATION,
        controlMsg: `${limit.byBinding ? "the binding's maxDuration" : 'SIP_MAX_CALL_SECONDS'} (${limit.seconds} s) reached`,
      });
    }, limit.seconds * 1000),
  ];
  const last = on.lastMinute;
  if (limit.lastMinuteAt !== undefined && last) timers.push(setTimeout(() => last(), limit.lastMinuteAt * 1000));
  return timers;
}

function isSdp(m: { has(h: string): boolean; get(h: string): string }): boolean {
  return m.has('Content-Type') && /^application\/sdp\b/i.test(m.get('Content-Type'));
}
