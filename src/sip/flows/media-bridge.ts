// Bridge through FreeSWITCH: B rings while the caller hears a ring tone (or FreeSWITCH's
// ringback), after a Huawei binding's preVoice tone, from a FreeSWITCH endpoint in early media; on
// answer the two endpoints are bridged inside FreeSWITCH, recorded when the binding asks (both
// parties hear its recordHintTone), and otherwise FreeSWITCH hands the media to the two parties
// (RFC 3725 style) unless a media relay anchors it or a last-minute tone is still to play. The extension entry flow
// (extension-entry.ts) ends in the same B leg after its prompt.
import Srf from 'drachtio-srf';
import type Mrf from 'drachtio-fsmrf';
import { Q850, type BridgeDecision } from '../../domain/route.js';
import { callFeatures, callLimit, mediaAfterAnswer } from '../../domain/call-features.js';
import { announcementFor } from '../../media/prompts.js';
import { DEFAULT_RINGBACK } from '../../media/ringback.js';
import { audioAddress } from '../../media/sdp.js';
import { maxDurationTimers, SDP } from '../legs.js';
import { RELEASE_DIR, type CallEnding } from '../media-call.js';
import { causeForStatus, parseQ850 } from '../q850.js';
import { CallGone, MediaFlow } from './media-flow.js';

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;
type Dialog = Srf.Dialog;

export class MediaBridge extends MediaFlow {
  /** A bridge that needs media (ring tone, recording) for a caller not answered yet. */
  async bridge(d: BridgeDecision): Promise<void> {
    try {
      this.call.routed(d);
      if (!this.call.req.body) {
        // Early media needs the caller's offer; late-offer INVITEs cannot be held in 183.
        this.stop({ dir: RELEASE_DIR.PLATFORM, cause: 88, status: 488, outcome: 'failed' });
        return;
      }
      const ep = (this.callerEp = await this.endpoint({ remoteSdp: this.call.req.body }));
      this.call.res.send(183, { headers: SDP, body: this.call.sdp.local('a', ep.local.sdp) });
      await this.connectB(d);
    } catch (err) {
      this.failed(err);
    } finally {
      await this.teardown();
    }
  }

  /**
   * Rings B from a FreeSWITCH offer, plays ringback to the caller (after a preVoice tone),
   * bridges on answer, then plays the binding's tones and ends the call at its limit.
   */
  protected async connectB(d: BridgeDecision): Promise<void> {
    const { config } = this.env;
    const f = callFeatures(d);
    const file = (name: string | undefined) => (name ? this.env.toneFile(name, d.binding.subsId) : undefined);
    const [tone, recordHint, lastMinute] = await this.until(Promise.all([this.env.ringSource(d), file(f.recordHint), file(f.lastMinVoice)]));
    // Direct: an answered caller, nothing to play but the default ringback, no media after answer:
    // B gets the caller's own offer and FreeSWITCH leaves once B answers (one channel per call, for
    // the prompt). Otherwise B is offered a second FreeSWITCH endpoint, so that only FreeSWITCH's
    // audio (the tones) reaches the caller until B answers, and recording and tones reach both parties.
    // With a media relay configured FreeSWITCH is the anchor of the calls it is in: no direct path.
    const direct = Boolean(this.uas) && !mediaAfterAnswer(d) && tone === DEFAULT_RINGBACK && config.MEDIA_ANCHOR === 'recording' && !this.call.sdp.anchored;
    const bEp = direct ? undefined : (this.bEp = await this.endpoint({}));
    const offer = bEp ? this.call.sdp.local('b', bEp.local.sdp) : await this.until(this.call.sdp.offer('a', this.call.req.body));
    this.startRingback(tone);
    const uac = await this.ringB(d, offer, direct);
    if (!uac) return;
    this.uac = uac;
    this.wireB(uac);
    this.log.debug('MediaSession: B answered');
    // Stopped at once, alongside the next steps: the caller's audio must reach B without delay
    // however soon B answered (ringback.ts). A direct join does not even wait for it: FreeSWITCH
    // leaves the media path.
    const ringStopped = this.stopRingback();
    if (!bEp) {
      this.call.answered();
      await this.joinDirect(offer);
    } else {
      await this.joinInFreeswitch(d, bEp, uac, ringStopped);
      if (recordHint && this.recordPath) void this.playToBoth(recordHint, 'recordHintTone');
    }
    this.log.info({ record: Boolean(this.recordPath), direct: this.direct }, 'MediaSession:connected');
    const timers = maxDurationTimers(callLimit(config.SIP_MAX_CALL_SECONDS, f), () => this.log, {
      expire: (e) => this.stop(e),
      ...(lastMinute ? { lastMinute: () => void this.playToBoth(lastMinute, 'lastMinVoice') } : {}),
    });
    for (const t of timers) this.timers.add(t);
    await this.untilEnded();
  }

  /**
   * Sends B its INVITE and waits for the answer, within SIP_RING_TIMEOUT. A B that does not
   * answer ends the call (an answered caller hears why first); then undefined.
   */
  private async ringB(d: BridgeDecision, offer: string, direct: boolean): Promise<Dialog | undefined> {
    const b = this.call.b;
    const { uri, headers } = this.call.bLeg(d.target);
    let timedOut = false;
    b.startRinging(this.env.config.SIP_RING_TIMEOUT, () => {
      timedOut = true;
      b.cancel(Q850.NO_ANSWER);
    });
    try {
      const uac = await this.dialog(
        this.call.srf.createUAC(uri, { localSdp: offer, headers }, {
          // srf.js calls it (err, req), whatever its shipped types say.
          cbRequest: ((err: unknown, r?: Req) => {
            if (err || !r) return;
            b.req = r;
            if (this.torn || this.stopped) b.cancel(this.ending?.cause ?? Q850.NORMAL_CLEARING);
          }) as unknown as (req: Req) => void,
          cbProvisional: (p: Res) => {
            if (p.status >= 180 && !b.alerted) this.call.ringing();
            // Direct: B's early media (183 with SDP) reaches the caller itself; ours would mix in.
            if (direct && p.body) void this.stopRingback();
          },
        }),
      );
      b.settle();
      return uac;
    } catch (err) {
      b.settle();
      if (err instanceof CallGone || !(err instanceof Srf.SipError)) throw err;
      const cause = timedOut ? Q850.NO_ANSWER : (parseQ850(err.res?.get('Reason')) ?? causeForStatus(err.status, b.alerted));
      const ending: CallEnding = timedOut
        ? { dir: RELEASE_DIR.PLATFORM, cause, status: 480, outcome: 'no-answer' }
        : { dir: RELEASE_DIR.CALLEE, cause, status: err.status, outcome: 'failed' };
      this.log.info({ status: err.status, cause }, 'MediaSession:B did not answer');
      await this.stopRingback();
      // An answered caller hears why; one still in early media gets B's status and cause.
      if (this.uas) await this.goodbye(announcementFor(cause), ending);
      else this.stop(ending);
      return undefined;
    }
  }

  /** B answered FreeSWITCH's offer: the caller is answered (if not yet) and bridged to B inside FreeSWITCH. */
  private async joinInFreeswitch(d: BridgeDecision, bEp: Mrf.Endpoint, uac: Dialog, ringStopped: Promise<void>): Promise<void> {
    const { config } = this.env;
    const callerEp = this.callerEp!;
    // FreeSWITCH offered to B; B's answer completes the B endpoint's negotiation.
    await this.until(bEp.modify(uac.remote.sdp));
    this.log.debug('MediaSession: B endpoint has B\'s answer');
    if (!this.uas) {
      this.uas = await this.dialog(this.call.srf.createUAS(this.call.req, this.call.res, { localSdp: this.call.sdp.local('a', callerEp.local.sdp) }));
      this.wireCaller(this.uas);
    }
    await ringStopped;
    await this.until(callerEp.bridge(bEp));
    this.call.answered();
    if (d.record) await this.startRecording(callerEp);
    else if (!mediaAfterAnswer(d) && config.MEDIA_ANCHOR === 'recording' && !this.call.sdp.anchored) await this.handOff();
  }

  /**
   * B answered the caller's own offer: the caller (answered by FreeSWITCH for the prompt) is
   * re-INVITEd with B's media; B is re-INVITEd too only if the caller's answer moved its media.
   * Then FreeSWITCH is released. A caller refusing the re-INVITE cannot be bridged: the call ends.
   */
  private async joinDirect(offerToB: string): Promise<void> {
    const uas = this.uas!;
    const uac = this.uac!;
    let aAnswer: string;
    try {
      aAnswer = await this.reinvite(uas, this.call.sdp.local('a', uac.remote.sdp));
    } catch (err) {
      if (err instanceof CallGone) throw err;
      this.log.warn({ err: String(err) }, 'MediaSession:caller refused the re-INVITE to B\'s media');
      this.stop({ dir: RELEASE_DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, outcome: 'error' });
      return;
    }
    if (audioAddress(aAnswer) !== audioAddress(offerToB)) {
      await this.until(uac.modify(this.call.sdp.local('b', aAnswer))).catch((err: unknown) => {
        if (err instanceof CallGone) throw err;
        this.log.warn({ err: String(err) }, 'MediaSession:B refused the caller\'s new media address');
      });
    }
    await this.releaseFreeswitch();
  }

  /** A re-INVITE, tried once more after a pause when it crossed one of the far end's (491). */
  private async reinvite(dlg: Dialog, sdp: string): Promise<string> {
    try {
      return await this.until(dlg.modify(sdp));
    } catch (err) {
      if (!(err instanceof Srf.SipError) || err.status !== 491) throw err;
      await this.until(new Promise((r) => setTimeout(r, 300 + Math.random() * 1200)));
      return this.until(dlg.modify(sdp));
    }
  }

  /**
   * Takes FreeSWITCH out of a bridged, unrecorded call (RFC 3725 style, with offers): the caller
   * is re-INVITEd with B's media, then B with the caller's answer; each keeps the SDP origin it
   * knows. If the caller refuses, FreeSWITCH simply stays; if B refuses after the caller moved,
   * the caller is moved back. Then both FreeSWITCH channels are released.
   */
  private async handOff(): Promise<void> {
    const uas = this.uas!;
    const uac = this.uac!;
    let aAnswer: string;
    try {
      aAnswer = await this.reinvite(uas, this.call.sdp.local('a', uac.remote.sdp));
    } catch (err) {
      if (err instanceof CallGone) throw err;
      this.log.info({ err: String(err) }, 'MediaSession:caller refused the media hand-off; FreeSWITCH stays in the path');
      return;
    }
    try {
      await this.reinvite(uac, this.call.sdp.local('b', aAnswer));
    } catch (err) {
      if (err instanceof CallGone) throw err;
      this.log.warn({ err: String(err) }, 'MediaSession:B refused the media hand-off; moving the caller back to FreeSWITCH');
      await this.until(uas.modify(this.call.sdp.local('a', this.callerEp!.local.sdp))).catch((e: unknown) => {
        if (e instanceof CallGone) throw e;
        this.stop({ dir: RELEASE_DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, outcome: 'error' });
      });
      return;
    }
    await this.releaseFreeswitch();
  }

  /** The two parties have each other's media: FreeSWITCH's channels go, in-dialog requests go leg to leg. */
  private async releaseFreeswitch(): Promise<void> {
    this.direct = true;
    const eps = this.endpoints.splice(0);
    this.callerEp = this.bEp = undefined;
    await Promise.allSettled(eps.map((ep) => this.env.link.release(ep)));
  }
}
