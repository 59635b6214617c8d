// Direct bridge (no media server): A ↔ drachtio-server ↔ B as one B2BUA. The caller's offer goes
// to B through the call's SDP rewrite (and the media relay when one is configured); B's
// provisional responses reach the caller, reliably when it asked for 100rel (early-dialog.ts);
// on answer both dialogs are wired leg to leg (legs.ts). Every failure ends the call session.
import Srf from 'drachtio-srf';
import { Q850, type BridgeDecision } from '../../domain/route.js';
import type { CallSession } from '../call-session.js';
import { callerReliability, EarlyDialogs } from '../early-dialog.js';
import { RELEASE_DIR } from '../media-call.js';
import { causeForStatus, parseQ850 } from '../q850.js';

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;

export async function directBridge(call: CallSession, d: BridgeDecision): Promise<void> {
  call.routed(d);
  if (call.ended) return;
  call.debug({ target: d.target, callType: d.callType, subsId: d.binding.subsId }, 'CallSession:bridge');
  const sdp = call.sdp;
  // Early offer: the relay anchors it before B sees it. Late offer (no SDP in the INVITE): B's
  // 200 carries the offer and the caller's ACK the answer.
  const lateOffer = !call.req.body;
  let offerToB: string | undefined;
  if (!lateOffer) {
    try {
      offerToB = await sdp.offer('a', call.req.body);
    } catch (err) {
      if (call.ended) return;
      call.log.warn({ err: String(err) }, 'CallSession:media relay unavailable');
      await call.refuse(503, Q850.TEMPORARY_FAILURE, 'unavailable', 'media relay unavailable');
      return;
    }
    if (call.ended) return;
  }
  call.bridging();
  try {
    const { uas, uac } = await launchB(call, d, lateOffer, offerToB);
    if (call.ended) {
      // Torn down while B answered (drain, ring timeout race): release both new dialogs.
      await Promise.allSettled([uas.destroy(call.byeHeaders()), uac.destroy(call.byeHeaders())]);
      return;
    }
    call.connect(uas, uac);
  } catch (err) {
    if (call.ended) return;
    if (call.callerCanceled) {
      await call.end({ dir: RELEASE_DIR.CALLER, cause: Q850.NORMAL_CLEARING, outcome: 'canceled' });
      return;
    }
    if (err instanceof Srf.SipError && err.status >= 300) {
      const cause = parseQ850(err.res?.get('Reason')) ?? causeForStatus(err.status, call.b.alerted);
      call.debug({ status: err.status, cause }, 'CallSession:bridge B failed');
      await call.end({ dir: RELEASE_DIR.CALLEE, cause, status: err.status, outcome: 'failed' });
      return;
    }
    call.log.error({ err }, 'CallSession:bridge unexpected error');
    await call.end({ dir: RELEASE_DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, status: 503, outcome: 'error' });
  }
}

/** Launches B as the second half of a B2BUA with the caller; resolves when B answered. */
function launchB(call: CallSession, d: BridgeDecision, lateOffer: boolean, offerToB: string | undefined): Promise<{ uas: Srf.Dialog; uac: Srf.Dialog }> {
  const { uri, headers } = call.bLeg(d.target);
  const sdp = call.sdp;
  const early = new EarlyDialogs(call.srf as Srf & Srf.SrfExtras, callerReliability(call.req), call.log, {
    offerToB: (offer) => sdp.offer('a', offer),
    answerToCaller: (answer) => sdp.answer('b', answer),
    lastToCaller: () => sdp.current('a'),
  });
  // A relay failure while B's answer is on its way: the caller gets 503 with cause 41 (and B its
  // CANCEL or BYE) before drachtio-srf, seeing the rejection, tears down its half.
  const towardsCaller = async (p: Promise<string>): Promise<string> => {
    try {
      return await p;
    } catch (err) {
      if (!call.ended) {
        call.log.warn({ err: String(err) }, 'CallSession:media relay failed on B\'s answer');
        void call.end({ dir: RELEASE_DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, status: 503, outcome: 'unavailable' });
      }
      throw err;
    }
  };
  return call.srf.createB2BUA(call.req, call.res, uri, {
    headers,
    // Failures are relayed by us with a Q.850 Reason; provisional responses pass through
    // without any of B's headers (proxyResponseHeaders is empty), reliably when the caller
    // asked for 100rel (early-dialog.ts).
    passFailure: false,
    passProvisionalResponses: true,
    // Everything B says about its media reaches the caller rewritten (18x and 200 alike).
    localSdpA: (sdpB: string) => towardsCaller(lateOffer ? sdp.offer('b', sdpB) : sdp.answer('b', sdpB)),
    localSdpB: offerToB ?? ((ackSdp: string) => towardsCaller(sdp.answer('a', ackSdp))),
    responseHeaders: ((bRes: Res) => early.responseHeaders(bRes)) as unknown as Srf.CreateB2BUAOptions['responseHeaders'],
  }, {
    cbRequest: ((err: unknown, uacReq: Req) => {
      if (err || !uacReq) return;
      early.attach(call.req, uacReq);
      if (!call.bInviteSent(uacReq)) return;
      uacReq.on('response', (r: Res) => {
        // 18x with SDP skips the B2BUA's cbProvisional (srf.js), so watch the request itself.
        if (r.status >= 200) call.b.settled = true;
        else if (r.status >= 180) call.ringing();
      });
      call.b.startRinging(call.config.SIP_RING_TIMEOUT, () => {
        if (call.ended) return;
        void call.end({ dir: RELEASE_DIR.PLATFORM, cause: Q850.NO_ANSWER, status: 480, outcome: 'no-answer' });
      });
    }) as unknown as (req: Req) => void,
    cbFinalizedUac: () => call.answered(),
  });
}
