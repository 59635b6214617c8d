// One call's media: the caller answered into a FreeSWITCH endpoint (extension prompt) or held in
// early media (ring tone), the B leg offered from a second endpoint, both bridged inside
// FreeSWITCH (so recording sees both parties). Every resource is taken through one function
// that also frees it if the call ended meanwhile; `teardown()` runs once and hands the ending to
// the SIP call session (MediaCall.end), which writes events and the CDR.
import { mkdir } from 'node:fs/promises';
import { dirname, basename } from 'node:path';
import Srf from 'drachtio-srf';
import type Mrf from 'drachtio-fsmrf';
import type { Config } from '../config.js';
import type { Decision } from '../domain/route.js';
import { Q850 } from '../domain/route.js';
import { readEntry } from '../domain/extension-entry.js';
import type { BridgeDecision, CallEnding, MediaCall } from '../sip/media-seam.js';
import { causeForStatus, parseQ850, reasonHeader } from '../sip/q850.js';
import type { MediaLink } from './media-server.js';
import { MediaUnavailableError } from './media-server.js';
import { announcementFor, EXTENSION_ENTRY, PROMPT } from './prompts.js';
import { recordingDuration, recordingPath, type RecordingLinks } from './recording-files.js';
import { audioAddress } from './sdp.js';
import { DEFAULT_RINGBACK } from './ring-tones.js';
import { Ringback } from './ringback.js';

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;
type Dialog = Srf.Dialog;

const DIR = { PLATFORM: 0, CALLER: 1, CALLEE: 2 } as const;
const SDP = { 'Content-Type': 'application/sdp' };
const DTMF_INFO = /^application\/(dtmf-relay|dtmf)\b/i;

export interface MediaEnv {
  config: Config;
  link: MediaLink;
  links: RecordingLinks;
  /** What the caller hears while B rings: a ring-tone file or FreeSWITCH's default ringback. */
  ringSource(d: BridgeDecision): Promise<string>;
}

/** The call ended while a step was waiting. */
class CallGone extends Error {
  constructor() {
    super('call ended');
  }
}

class Unplayable extends Error {}

export class MediaSession {
  private readonly local = new AbortController();
  private readonly endpoints: Mrf.Endpoint[] = [];
  private callerEp?: Mrf.Endpoint;
  private bEp?: Mrf.Endpoint;
  /** Caller's dialog once xline answered it; B's dialog once B answered. */
  private uas?: Dialog;
  private uac?: Dialog;
  private uacReq?: Req;
  private bSettled = false;
  private alerted = false;
  private bAnswered = false;
  private ringback?: Ringback;
  private recordPath?: string;
  /** Media handed to the two parties: FreeSWITCH is out, in-dialog requests go leg to leg. */
  private direct = false;
  private ending?: CallEnding;
  private torn = false;
  private tornDown?: Promise<void>;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Digits that end an entry without `#`: the longest extension on X when the store knows it. */
  private maxDigits: number = EXTENSION_ENTRY.maxDigits;

  constructor(
    private readonly env: MediaEnv,
    private readonly call: MediaCall,
  ) {
    // The SIP side ended the call (caller CANCEL, drain, drachtio lost): stop every step.
    if (call.signal.aborted) this.local.abort();
    else call.signal.addEventListener('abort', () => this.stop({ dir: DIR.PLATFORM, cause: Q850.NORMAL_CLEARING }), { once: true });
    // ...and if its teardown runs first, ours frees the endpoints and dialogs all the same.
    call.own({ destroy: () => this.teardown() });
  }

  private get log() {
    return this.call.log;
  }

  // ---- the two flows ----------------------------------------------------------------------

  /**
   * AXN extension: answer, prompt, collect, route, ring A, bridge. `extensionDigits`: the longest
   * extension X has (3 for allocated ones): entry ends on that digit instead of `#` or the timeout.
   */
  async collect(extensionDigits?: number): Promise<void> {
    if (extensionDigits !== undefined && extensionDigits >= EXTENSION_ENTRY.minDigits && extensionDigits <= EXTENSION_ENTRY.maxDigits) {
      this.maxDigits = extensionDigits;
    }
    try {
      // The first prompt is already running when the caller gets its 200 OK: a parked
      // FreeSWITCH channel swallows digits, so none may arrive before the collector does.
      const { started } = await this.answerCaller((ep) => this.collectDigits(ep, PROMPT.enterExtension));
      const d = await this.askExtension(started);
      if (d) {
        this.call.routed(d);
        this.log.info({ target: d.target, subsId: d.binding.subsId }, 'MediaSession:extension routed');
        await this.connectB(d);
      }
    } catch (err) {
      this.failed(err);
    } finally {
      await this.teardown();
    }
  }

  /** A bridge that needs media (ring tone, recording) for a caller not answered yet. */
  async bridge(d: BridgeDecision): Promise<void> {
    try {
      this.call.routed(d);
      if (!this.call.req.body) {
        // Early media needs the caller's offer; late-offer INVITEs cannot be held in 183.
        this.stop({ dir: DIR.PLATFORM, cause: 88, status: 488, outcome: 'failed' });
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

  // ---- steps ------------------------------------------------------------------------------

  /** Answers the caller from a FreeSWITCH endpoint, starting `before` on it before the 200 OK. */
  private async answerCaller<T>(before: (ep: Mrf.Endpoint) => Promise<T>): Promise<{ started: Promise<T> }> {
    const { req, res, srf } = this.call;
    if (!req.body) {
      this.stop({ dir: DIR.PLATFORM, cause: 88, status: 488, outcome: 'failed' });
      throw new CallGone();
    }
    const ep = (this.callerEp = await this.endpoint({ remoteSdp: req.body }));
    const started = before(ep);
    started.catch(() => undefined); // awaited by the caller of answerCaller; never unhandled
    this.uas = await this.dialog(srf.createUAS(req, res, { localSdp: this.call.sdp.local('a', ep.local.sdp) }));
    this.wireCaller(this.uas);
    return { started };
  }

  /** One entry attempt: prompt (barge-in), up to maxDigits digits, `#` ends, 5 s first/inter-digit. */
  private collectDigits(ep: Mrf.Endpoint, file: string): Promise<Mrf.PlayCollectResult> {
    const rules = EXTENSION_ENTRY;
    return ep.playCollect({
      file,
      min: rules.minDigits,
      max: this.maxDigits,
      tries: 1,
      timeout: rules.firstDigitMs,
      digitTimeout: rules.interDigitMs,
      terminators: rules.terminator,
      invalidFile: 'silence_stream://100',
      varName: 'xline_extension',
      regexp: `^\\d{${rules.minDigits},${this.maxDigits}}$`,
    });
  }

  /**
   * A later try. `flush`: keys typed while the last entry was looked up are dropped (a `#` after
   * a full entry would otherwise end this try at once; one arriving later is readEntry's concern).
   */
  private async nextTry(ep: Mrf.Endpoint, retryPrompt: boolean, flush: boolean): Promise<Mrf.PlayCollectResult> {
    // FreeSWITCH keeps read_terminator_used from earlier rounds; readEntry needs this round's alone.
    await ep.execute('unset', 'read_terminator_used');
    if (flush) await ep.execute('flush_dtmf');
    return this.collectDigits(ep, retryPrompt ? PROMPT.retry : PROMPT.enterExtension);
  }

  /** Up to 3 tries; returns the routed bridge or undefined once the goodbye has been said. */
  private async askExtension(first: Promise<Mrf.PlayCollectResult>): Promise<BridgeDecision | undefined> {
    const ep = this.callerEp!;
    const rules = EXTENSION_ENTRY;
    let keyed = false;
    let lastWrong = false;
    let afterCompleteEntry = false;
    let attempt = 1;
    let r = await this.until(first);
    for (;;) {
      const e = readEntry(r, { maxDigits: this.maxDigits, afterCompleteEntry, terminator: rules.terminator });
      afterCompleteEntry = false;
      this.log.info({ attempt, entry: e.kind, digits: e.kind === 'digits' ? e.digits.length : 0 }, 'MediaSession:extension entered');
      if (e.kind === 'late-terminator') {
        // The same try again, without flushing: keys typed since are the caller's next entry.
        r = await this.until(this.nextTry(ep, lastWrong, false));
        continue;
      }
      if (e.kind === 'digits') {
        keyed = true;
        let d: Decision;
        try {
          d = await this.until(this.call.route(e.digits));
        } catch (err) {
          if (err instanceof CallGone) throw err;
          this.log.error({ err: String(err) }, 'MediaSession:extension lookup failed');
          await this.goodbye(PROMPT.unavailable, { dir: DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, outcome: 'unavailable' });
          return undefined;
        }
        if (d.kind === 'bridge') return d;
        if (d.kind === 'refuse' && d.reason !== 'no-binding') {
          await this.goodbye(PROMPT.goodbye, {
            dir: DIR.PLATFORM,
            cause: d.cause,
            outcome: 'refused',
            controlType: d.reason,
            controlMsg: 'extension call refused by the binding',
          });
          return undefined;
        }
        lastWrong = true;
        afterCompleteEntry = e.complete;
      } else {
        if (e.kind === 'invalid') keyed = true;
        lastWrong = e.kind === 'invalid';
      }
      if (++attempt > rules.tries) break;
      r = await this.until(this.nextTry(ep, lastWrong, true));
    }
    const cause = keyed ? Q850.UNALLOCATED : Q850.RECOVERY_ON_TIMER_EXPIRE;
    await this.goodbye(keyed ? PROMPT.invalidGoodbye : PROMPT.noInputGoodbye, {
      dir: DIR.PLATFORM,
      cause,
      outcome: 'refused',
      controlType: keyed ? 'wrong-extension' : 'no-extension',
      controlMsg: keyed ? `no binding for the extension after ${rules.tries} tries` : `no digits in ${rules.tries} tries`,
    });
    return undefined;
  }

  /** Rings B from a FreeSWITCH offer, plays ringback to the caller, bridges on answer. */
  private async connectB(d: BridgeDecision): Promise<void> {
    const { config } = this.env;
    const callerEp = this.callerEp!;
    const tone = await this.until(this.env.ringSource(d));
    // Direct: an answered caller, nothing to record, no ring tone of the operator's: B gets the
    // caller's own offer and FreeSWITCH leaves once B answers (one channel per call, for the
    // prompt). Otherwise B is offered a second FreeSWITCH endpoint, so that only FreeSWITCH's
    // audio (the ring tone) reaches the caller until B answers, and recording sees both parties.
    // With a media relay configured FreeSWITCH is the anchor of the calls it is in: no direct path.
    const direct = Boolean(this.uas) && !d.record && tone === DEFAULT_RINGBACK && config.MEDIA_ANCHOR === 'recording' && !this.call.sdp.anchored;
    const bEp = direct ? undefined : (this.bEp = await this.endpoint({}));
    const offer = bEp ? this.call.sdp.local('b', bEp.local.sdp) : await this.until(this.call.sdp.offer('a', this.call.req.body));
    const { uri, headers } = this.call.bLeg(d.target);
    this.startRingback(tone);

    let timedOut = false;
    const ringTimer = this.timer(config.SIP_RING_TIMEOUT * 1000, () => {
      timedOut = true;
      this.log.info({ ringTimeoutSec: config.SIP_RING_TIMEOUT }, 'MediaSession:ring timeout');
      this.cancelB(Q850.NO_ANSWER);
    });
    let uac: Dialog;
    try {
      uac = await this.dialog(
        this.call.srf.createUAC(uri, { localSdp: offer, headers }, {
          // srf.js calls it (err, req), whatever its shipped types say.
          cbRequest: ((err: unknown, r?: Req) => {
            if (err || !r) return;
            this.uacReq = r;
            if (this.torn || this.local.signal.aborted) this.cancelB(this.ending?.cause ?? Q850.NORMAL_CLEARING);
          }) as unknown as (req: Req) => void,
          cbProvisional: (p: Res) => {
            if (p.status >= 180 && !this.alerted) {
              this.alerted = true;
              this.call.ringing();
            }
            // Direct: B's early media (183 with SDP) reaches the caller itself; ours would mix in.
            if (direct && p.body && this.ringback) void this.stopRingback();
          },
        }),
      );
    } catch (err) {
      this.clearTimer(ringTimer);
      this.bSettled = true;
      if (err instanceof CallGone || !(err instanceof Srf.SipError)) throw err;
      const cause = timedOut ? Q850.NO_ANSWER : (parseQ850(err.res?.get('Reason')) ?? causeForStatus(err.status, this.alerted));
      const ending: CallEnding = timedOut
        ? { dir: DIR.PLATFORM, cause, status: 480, outcome: 'no-answer' }
        : { dir: DIR.CALLEE, cause, status: err.status, outcome: 'failed' };
      this.log.info({ status: err.status, cause }, 'MediaSession:B did not answer');
      await this.stopRingback();
      // An answered caller hears why; one still in early media gets B's status and cause.
      if (this.uas) await this.goodbye(announcementFor(cause), ending);
      else this.stop(ending);
      return;
    }
    this.clearTimer(ringTimer);
    this.bSettled = true;
    this.uac = uac;
    this.wireB(uac);
    this.log.debug('MediaSession: B answered');
    // Stopped at once, alongside the next steps: the caller's audio must reach B without delay
    // however soon B answered (ringback.ts). A direct join does not even wait for it: FreeSWITCH
    // leaves the media path.
    const ringStopped = this.stopRingback();
    if (!bEp) {
      this.bAnswered = true;
      this.call.answered();
      await this.joinDirect(offer);
      this.log.info({ direct: this.direct }, 'MediaSession:connected');
      this.timer(config.SIP_MAX_CALL_SECONDS * 1000, () => {
        this.log.info('MediaSession:max call duration reached');
        this.stop({ dir: DIR.PLATFORM, cause: Q850.NORMAL_CLEARING, outcome: 'answered' });
      });
      await this.untilEnded();
      return;
    }
    // FreeSWITCH offered to B; B's answer completes the B endpoint's negotiation.
    await this.until(bEp.modify(uac.remote.sdp));
    this.log.debug('MediaSession: B endpoint has B\'s answer');
    if (!this.uas) {
      this.uas = await this.dialog(this.call.srf.createUAS(this.call.req, this.call.res, { localSdp: this.call.sdp.local('a', callerEp.local.sdp) }));
      this.wireCaller(this.uas);
    }
    await ringStopped;
    await this.until(callerEp.bridge(bEp));
    this.bAnswered = true;
    this.call.answered();
    if (d.record) await this.startRecording(callerEp);
    else if (config.MEDIA_ANCHOR === 'recording' && !this.call.sdp.anchored) await this.handOff();
    this.log.info({ record: Boolean(this.recordPath), direct: this.direct }, 'MediaSession:connected');
    this.timer(config.SIP_MAX_CALL_SECONDS * 1000, () => {
      this.log.info('MediaSession:max call duration reached');
      this.stop({ dir: DIR.PLATFORM, cause: Q850.NORMAL_CLEARING, outcome: 'answered' });
    });
    await this.untilEnded();
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
      this.stop({ dir: DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, outcome: 'error' });
      return;
    }
    if (audioAddress(aAnswer) !== audioAddress(offerToB)) {
      await this.until(uac.modify(this.call.sdp.local('b', aAnswer))).catch((err: unknown) => {
        if (err instanceof CallGone) throw err;
        this.log.warn({ err: String(err) }, 'MediaSession:B refused the caller\'s new media address');
      });
    }
    this.direct = true;
    const eps = this.endpoints.splice(0);
    this.callerEp = undefined;
    await Promise.allSettled(eps.map((ep) => this.env.link.release(ep)));
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
        this.stop({ dir: DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, outcome: 'error' });
      });
      return;
    }
    this.direct = true;
    const eps = this.endpoints.splice(0);
    this.callerEp = this.bEp = undefined;
    await Promise.allSettled(eps.map((ep) => this.env.link.release(ep)));
  }

  private async goodbye(file: string, ending: CallEnding): Promise<void> {
    // Set first: the BYE after the prompt carries this cause.
    this.ending ??= ending;
    try {
      await this.until(withTimeout(this.callerEp!.play(file), 20_000));
    } catch (err) {
      if (!(err instanceof CallGone)) this.log.warn({ err: String(err), file }, 'MediaSession:announcement failed');
    }
    this.stop(ending);
  }

  /** Ring tone or ringback to the caller until B answers (ringback.ts). */
  private startRingback(source: string): void {
    this.ringback = new Ringback(this.callerEp!, source, this.log);
  }

  private async stopRingback(): Promise<void> {
    const rb = this.ringback;
    this.ringback = undefined;
    await rb?.stop();
  }

  private async startRecording(ep: Mrf.Endpoint): Promise<void> {
    const path = recordingPath(this.env.config, this.call.callId);
    try {
      await mkdir(dirname(path), { recursive: true });
      // Both parties, mixed: the caller's endpoint reads the caller and writes what B says.
      const r = await this.until(this.env.link.api(`uuid_record ${ep.uuid} start ${path}`));
      if (!r.startsWith('+OK')) throw new Error(r.trim());
      this.recordPath = path;
    } catch (err) {
      if (err instanceof CallGone) throw err;
      this.log.error({ err: String(err) }, 'MediaSession:recording did not start');
    }
  }

  // ---- dialogs ----------------------------------------------------------------------------

  private wireCaller(uas: Dialog): void {
    uas.on('destroy', (bye: Req) => {
      this.stop({
        dir: DIR.CALLER,
        cause: parseQ850(bye?.get?.('Reason')) ?? Q850.NORMAL_CLEARING,
        outcome: this.bAnswered ? 'answered' : 'canceled',
      });
    });
    // SIP INFO digits reach FreeSWITCH (liberal-dtmf) like RFC 2833 ones: prompt and B alike.
    uas.on('info', (req: Req, res: Res) => void (this.direct ? this.relayDirect(this.uac, req, res) : this.relayInfo(this.callerEp, req, res)));
    uas.on('modify', (req: Req, res: Res) => void (this.direct ? this.reofferDirect(uas, this.uac, req, res) : this.reoffer(uas, this.callerEp, req, res, 'a')));
    uas.on('refer', (_req: Req, res: Res) => res.send(603));
  }

  private wireB(uac: Dialog): void {
    uac.on('destroy', (bye: Req) => {
      this.stop({ dir: DIR.CALLEE, cause: parseQ850(bye?.get?.('Reason')) ?? Q850.NORMAL_CLEARING, outcome: 'answered' });
    });
    uac.on('info', (req: Req, res: Res) => void (this.direct ? this.relayDirect(this.uas, req, res) : this.relayInfo(this.bEp, req, res)));
    uac.on('modify', (req: Req, res: Res) => void (this.direct ? this.reofferDirect(uac, this.uas, req, res) : this.reoffer(uac, this.bEp, req, res, 'b')));
    uac.on('refer', (_req: Req, res: Res) => res.send(603));
  }

  private async relayInfo(ep: Mrf.Endpoint | undefined, req: Req, res: Res): Promise<void> {
    res.send(200);
    const ct = req.has('Content-Type') ? req.get('Content-Type') : '';
    if (!ep || !DTMF_INFO.test(ct) || !ep.dialog?.connected) return;
    try {
      const r = await ep.dialog.request({ method: 'INFO', headers: { 'Content-Type': ct }, body: req.body });
      this.log.debug({ status: r.status }, 'MediaSession: INFO relayed to FreeSWITCH');
    } catch (err) {
      this.log.info({ err: String(err) }, 'MediaSession:INFO relay failed');
    }
  }

  /** A re-INVITE from the caller or B: FreeSWITCH answers it for that leg. */
  private async reoffer(dlg: Dialog, ep: Mrf.Endpoint | undefined, req: Req, res: Res, side: 'a' | 'b'): Promise<void> {
    try {
      if (!req.body || !ep) {
        res.send(200, { headers: SDP, body: dlg.local.sdp });
        return;
      }
      const sdp = this.call.sdp.local(side, await ep.modify(req.body));
      dlg.local.sdp = sdp;
      res.send(200, { headers: SDP, body: sdp });
    } catch (err) {
      this.log.info({ err: String(err) }, 'MediaSession:re-INVITE failed');
      res.send(488);
    }
  }

  /** After the hand-off: an INFO goes to the other party as it came (DTMF relay, etc.). */
  private async relayDirect(to: Dialog | undefined, req: Req, res: Res): Promise<void> {
    if (!to?.connected) return void res.send(481);
    try {
      const headers: Record<string, string> = {};
      if (req.has('Content-Type')) headers['Content-Type'] = req.get('Content-Type');
      const r = await to.request({ method: 'INFO', headers, ...(req.body ? { body: req.body } : {}) });
      res.send(r.status);
    } catch (err) {
      this.log.info({ err: String(err) }, 'MediaSession:INFO relay failed');
      res.send(500);
    }
  }

  /** After the hand-off: a re-INVITE (hold, codec change) is offered to the other party. */
  private async reofferDirect(from: Dialog, to: Dialog | undefined, req: Req, res: Res): Promise<void> {
    try {
      if (!req.body || !to?.connected) {
        res.send(200, { headers: SDP, body: from.local.sdp });
        return;
      }
      const fromSide = from === this.uas ? 'a' : 'b';
      const answer = await to.modify(this.call.sdp.local(fromSide === 'a' ? 'b' : 'a', req.body));
      from.local.sdp = this.call.sdp.local(fromSide, answer);
      res.send(200, { headers: SDP, body: from.local.sdp });
    } catch (err) {
      this.log.info({ err: String(err) }, 'MediaSession:re-INVITE relay failed');
      res.send(err instanceof Srf.SipError ? err.status : 500);
    }
  }

  private cancelB(cause: number): void {
    const r = this.uacReq;
    if (!r || this.bSettled) return;
    this.bSettled = true;
    try {
      r.cancel({ headers: { Reason: reasonHeader(cause) } });
    } catch (err) {
      this.log.info({ err: String(err) }, 'MediaSession:CANCEL to B failed');
    }
  }

  // ---- resources and waiting --------------------------------------------------------------

  /** Creates an endpoint that is released even when it arrives after the call ended. */
  private async endpoint(opts: Mrf.EndpointOptions): Promise<Mrf.Endpoint> {
    const p = this.env.link.createEndpoint(opts);
    p.then(
      (ep) => {
        if (this.torn) void this.env.link.release(ep);
        else {
          this.endpoints.push(ep);
          ep.once('destroy', () => {
            // FreeSWITCH lost a channel the call still uses (not one released by the hand-off).
            if (!this.torn && this.endpoints.includes(ep)) this.stop({ dir: DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, status: 503, outcome: 'error' });
          });
        }
      },
      () => undefined,
    );
    return this.until(p);
  }

  /** Waits for a dialog; one that completes after the call ended is hung up at once. */
  private dialog(p: Promise<Dialog>): Promise<Dialog> {
    p.then(
      (dlg) => {
        if (this.torn) void dlg.destroy({ headers: { Reason: reasonHeader(this.ending?.cause ?? Q850.NORMAL_CLEARING) } }).catch(() => undefined);
      },
      () => undefined,
    );
    return this.until(p);
  }

  private until<T>(p: Promise<T>): Promise<T> {
    const s = this.local.signal;
    if (s.aborted) {
      p.catch(() => undefined);
      return Promise.reject(new CallGone());
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new CallGone());
      s.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          s.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          s.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  private untilEnded(): Promise<void> {
    const s = this.local.signal;
    if (s.aborted) return Promise.resolve();
    return new Promise((resolve) => s.addEventListener('abort', () => resolve(), { once: true }));
  }

  private timer(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimer(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.timers.delete(t);
  }

  /** Records why the call ends (first reason wins) and wakes every waiting step. */
  private stop(e: CallEnding): void {
    this.ending ??= e;
    this.local.abort();
  }

  private failed(err: unknown): void {
    if (err instanceof CallGone) return;
    const unavailable = err instanceof MediaUnavailableError;
    this.log[unavailable ? 'warn' : 'error']({ err: err instanceof Error ? err.message : String(err) }, 'MediaSession:failed');
    this.stop({ dir: DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, status: 503, outcome: unavailable ? 'unavailable' : 'error' });
  }

  // ---- teardown (once) --------------------------------------------------------------------

  teardown(): Promise<void> {
    this.tornDown ??= this.doTeardown();
    return this.tornDown;
  }

  private async doTeardown(): Promise<void> {
    this.torn = true;
    const e = (this.ending ??= { dir: DIR.PLATFORM, cause: Q850.NORMAL_CLEARING });
    this.local.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const link = this.env.link;

    // Close the recording before anything hangs up, so its length is final when measured.
    if (this.recordPath && this.callerEp) {
      await link.api(`uuid_record ${this.callerEp.uuid} stop ${this.recordPath}`, 2000).catch(() => undefined);
    }
    if (!this.uac) this.cancelB(e.cause);
    const reason = { headers: { Reason: reasonHeader(e.cause) } };
    for (const dlg of [this.uas, this.uac]) {
      if (dlg?.connected) void dlg.destroy(reason).catch((err: unknown) => this.log.info({ err: String(err) }, 'MediaSession:BYE failed'));
    }
    await Promise.allSettled(this.endpoints.splice(0).map((ep) => link.release(ep)));

    if (this.recordPath) {
      const durationSec = await recordingDuration(this.recordPath);
      const { url } = this.env.links.url(basename(this.recordPath));
      this.call.recording({ path: this.recordPath, url, ...(durationSec !== undefined ? { durationSec } : {}) });
    }
    await this.call.end(e);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Unplayable(`no completion in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}
