// AXN extension entry: the caller is answered into FreeSWITCH, prompted for the extension (up to
// three tries, barge-in, `#` or the longest extension ends an entry), the digits are routed like
// a call, and a found binding rings A through the media bridge's B leg; otherwise the caller
// hears why and the call ends.
import type Mrf from 'drachtio-fsmrf';
import { readEntry } from '../../domain/extension-entry.js';
import { Q850, type BridgeDecision, type Decision } from '../../domain/route.js';
import { EXTENSION_ENTRY, PROMPT } from '../../media/prompts.js';
import { RELEASE_DIR } from '../media-call.js';
import { CallGone } from './media-flow.js';
import { MediaBridge } from './media-bridge.js';

export class ExtensionEntry extends MediaBridge {
  /** Digits that end an entry without `#`: the longest extension on X when the store knows it. */
  private maxDigits: number = EXTENSION_ENTRY.maxDigits;

  /**
   * AXN extension: answer, prompt, collect, route, ring A, bridge. `extensionDigits`: the longest
   * extension X has (3 for allocated ones): entry ends on that digit instead of `#` or the timeout.
   */
  async run(extensionDigits?: number): Promise<void> {
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
        this.call.extensionEntered(e.digits);
        let d: Decision;
        try {
          d = await this.until(this.call.route(e.digits));
        } catch (err) {
          if (err instanceof CallGone) throw err;
          this.log.error({ err: String(err) }, 'MediaSession:extension lookup failed');
          await this.goodbye(PROMPT.unavailable, { dir: RELEASE_DIR.PLATFORM, cause: Q850.TEMPORARY_FAILURE, outcome: 'unavailable' });
          return undefined;
        }
        if (d.kind === 'bridge') return d;
        if (d.kind === 'refuse' && d.reason !== 'no-binding') {
          await this.goodbye(PROMPT.goodbye, {
            dir: RELEASE_DIR.PLATFORM,
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
      dir: RELEASE_DIR.PLATFORM,
      cause,
      outcome: 'refused',
      controlType: keyed ? 'wrong-extension' : 'no-extension',
      controlMsg: keyed ? `no binding for the extension after ${rules.tries} tries` : `no digits in ${rules.tries} tries`,
    });
    return undefined;
  }
}
