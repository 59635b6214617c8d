// What one party's session description may tell the other: what media needs, nothing that
// names the party, its phone or its network. Pure (no I/O): the SIP side runs every SDP it
// relays between two parties through one SdpPrivacy per direction.
//
// Kept: v= t= r= z= c= b= k= m= and every media attribute (rtpmap, fmtp, ptime, maxptime,
// telephone-event, rtcp, rtcp-mux, rtcp-fb, direction, crypto, fingerprint, setup, mid, group,
// extmap, ssrc ids ...). Replaced: the origin line (o=- <id> <version> IN IP4 <the c= address>,
// one session id per direction, the version bumped only when the description changes, RFC 3264
// §8), the session name (s=-) and every ssrc cname (a per-direction token). Dropped: i= u= e= p=,
// a=tool, a=msid, a=msid-semantic, a=label, a=mslabel, a=ssrc attributes other than cname
// (msid, label, mslabel carry stream and track ids), and ICE (a=candidate etc. list every
// address of the phone, LAN ones included; without ICE both ends fall back to c=).

/** Lines that carry nothing media needs: information, URI, e-mail, phone (session or media level). */
const DROPPED_LINE = /^[iuep]=/;

/** Attributes that describe the party, its software or its addresses, not the media. */
const DROPPED_ATTRIBUTES = new Set([
  'tool',
  'msid',
  'msid-semantic',
  'label',
  'mslabel',
  'candidate',
  'remote-candidates',
  'end-of-candidates',
  'ice-ufrag',
  'ice-pwd',
  'ice-options',
  'ice-lite',
  'ice-mismatch',
  'ice-pacing',
]);

export interface Origin {
  sessionId: string;
  version: bigint;
  /** `IN IP4 192.0.2.1`: net type, address type and address of the origin line. */
  address: string;
}

/**
 * `sdp` with the origin `origin`, `s=-`, ssrc cnames = `cname`, and the identifying lines above
 * removed. Lines end in CRLF (RFC 4566), whatever the input used.
 */
export function privateSdp(sdp: string, origin: Origin, cname: string): string {
  const out: string[] = [];
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (!line) continue;
    if (DROPPED_LINE.test(line)) continue;
    if (line.startsWith('o=')) {
      out.push(`o=- ${origin.sessionId} ${origin.version} ${origin.address}`);
      continue;
    }
    if (line.startsWith('s=')) {
      out.push('s=-');
      continue;
    }
    if (line.startsWith('a=')) {
      const name = attributeName(line);
      if (DROPPED_ATTRIBUTES.has(name)) continue;
      if (name === 'ssrc') {
        // a=ssrc:<id> <attribute>[:<value>]: only the cname is kept, and it names no one.
        const m = /^a=ssrc:(\d+)\s+([^:\s]+)/i.exec(line);
        if (!m || m[2]!.toLowerCase() !== 'cname') continue;
        out.push(`a=ssrc:${m[1]} cname:${cname}`);
        continue;
      }
    }
    out.push(line);
  }
  return out.join('\r\n') + '\r\n';
}

/** `IN IP4 <address>` of the session-level c= line, else of the first media-level one. */
export function connectionAddress(sdp: string): string | undefined {
  const m = /^c=(IN) (IP[46]) ([^\s/]+)/m.exec(sdp);
  return m ? `${m[1]} ${m[2]} ${m[3]}` : undefined;
}

function attributeName(line: string): string {
  const end = line.search(/[:\s]/);
  return (end < 0 ? line.slice(2) : line.slice(2, end)).toLowerCase();
}

/**
 * The SDP one party receives in one dialog, from any source (the other party, the relay,
 * FreeSWITCH): one origin for the whole dialog, its version bumped exactly when the
 * description changes (so a re-INVITE's offer is seen as new and a repeated answer, as in a
 * 183 then a 200, is not), the address taken from the first description's c= line.
 */
export class SdpPrivacy {
  private origin?: Origin;
  private last?: string;

  /** `sessionId`: decimal digits, random per dialog; `cname`: an opaque token for ssrc cnames. */
  constructor(
    private readonly sessionId: string,
    private readonly cname: string,
  ) {}

  rewrite(sdp: string): string {
    if (!this.origin) {
      this.origin = { sessionId: this.sessionId, version: 1n, address: connectionAddress(sdp) ?? 'IN IP4 0.0.0.0' };
      this.last = privateSdp(sdp, this.origin, this.cname);
      return this.last;
    }
    const same = privateSdp(sdp, this.origin, this.cname);
    if (same === this.last) return same;
    this.origin = { ...this.origin, version: this.origin.version + 1n };
    this.last = privateSdp(sdp, this.origin, this.cname);
    return this.last;
  }

  /** The description this party was last given (what an offerless re-INVITE is answered with). */
  get current(): string | undefined {
    return this.last;
  }
}
