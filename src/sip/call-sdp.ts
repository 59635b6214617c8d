// What each party of one call sees of the other's media: every offer and answer xline passes
// between the caller (a) and the called party (b) goes through the media relay when one is
// configured (rtpengine anchors the media: each party sees only the relay) and then through
// sdp-privacy (one origin per party for the whole dialog, nothing naming the other party).
// The relay session is opened by the first offer and deleted by close(), which the call's
// teardown runs on every end path.
import { randomBytes, randomInt } from 'node:crypto';
import { SdpPrivacy } from '../domain/sdp-privacy.js';
import type { MediaRelay } from '../media-relay/rtpengine.js';

export type Side = 'a' | 'b';

const other = (s: Side): Side => (s === 'a' ? 'b' : 'a');

/** rtpengine's tags for the two parties: its session is keyed by the caller leg's Call-ID. */
const TAG: Record<Side, string> = { a: 'xline-a', b: 'xline-b' };

export class CallSdp {
  /** Keyed by the party that receives the description. */
  private readonly seen: Record<Side, SdpPrivacy> = { a: newPrivacy(), b: newPrivacy() };
  private opened = false;
  private closed = false;

  constructor(
    private readonly callId: string,
    private readonly relay?: MediaRelay,
  ) {}

  get anchored(): boolean {
    return this.relay !== undefined;
  }

  /** An offer from `from`, as the other party is to receive it. Rejects when the relay fails. */
  async offer(from: Side, sdp: string): Promise<string> {
    let out = sdp;
    if (this.relay && !this.closed) {
      this.opened = true;
      out = await this.relay.offer({ callId: this.callId, fromTag: TAG[from], toTag: TAG[other(from)], sdp });
    }
    return this.seen[other(from)].rewrite(out);
  }

  /** `from`'s answer to the other party's offer, as the offerer is to receive it. */
  async answer(from: Side, sdp: string): Promise<string> {
    let out = sdp;
    if (this.relay && !this.closed) {
      out = await this.relay.answer({ callId: this.callId, fromTag: TAG[other(from)], toTag: TAG[from], sdp });
    }
    return this.seen[other(from)].rewrite(out);
  }

  /** A description xline itself hands `to` (FreeSWITCH's), rewritten like the rest. */
  local(to: Side, sdp: string): string {
    return this.seen[to].rewrite(sdp);
  }

  /** What `to` was last given (an offerless re-INVITE is answered with it). */
  current(to: Side): string | undefined {
    return this.seen[to].current;
  }

  /** Deletes the relay session, once; later offers and answers skip the relay. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.opened) await this.relay?.delete(this.callId);
  }
}

function newPrivacy(): SdpPrivacy {
  // RFC 4566 asks for an NTP-format session id; any number unique enough will do.
  return new SdpPrivacy(String(randomInt(1, 2 ** 47)), randomBytes(8).toString('hex'));
}
