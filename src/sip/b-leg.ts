// The B leg of a call, whichever flow launches it (a B2BUA bridge, or a UAC offered from
// FreeSWITCH): where it goes (request URI and headers naming X only), the INVITE once it left,
// CANCEL with a cause (never twice, never after a final response), the ring timer, and the
// settled / ringing / answered states a flow and the teardown read.
import type Srf from 'drachtio-srf';
import type { Logger } from '../log.js';
import { reasonHeader } from './q850.js';

type Req = Srf.SrfRequest;

/** Where B legs go: `sip:<target>@<hostport><params>` (DESIGN §3 SIP_OUTBOUND_URI). */
export interface OutboundTarget {
  scheme: 'sip' | 'sips';
  hostport: string;
  /** URI parameters including the leading ';' (e.g. ';transport=tcp'), or ''. */
  params: string;
  /** `;transport=…` of the URI, lower case, or '' (UDP, or the scheme's default). */
  transport: string;
}

export function parseOutboundUri(uri: string): OutboundTarget {
  const m = /^(sips?):([^;@\s]+)(;.*)?$/.exec(uri.trim());
  if (!m?.[1] || !m[2]) throw new Error(`SIP_OUTBOUND_URI must be sip:host[:port][;params], got ${uri}`);
  const params = m[3] ?? '';
  const transport = /;transport=([a-z0-9-]+)/i.exec(params)?.[1]?.toLowerCase() ?? '';
  return { scheme: m[1] as 'sip' | 'sips', hostport: m[2], params, transport: transport ? `;transport=${transport}` : '' };
}

/** Request-URI and headers of a B leg to `target`: From/Contact/PAI = X, nothing of the caller. */
export function bLegRequest(outbound: OutboundTarget, x: string, target: string): { uri: string; headers: Record<string, string> } {
  const { scheme, hostport, params, transport } = outbound;
  // drachtio-server replaces 'localhost' with its own SIP address (keeping the parameters);
  // nothing of A is carried. Every URI naming xline carries the leg's transport, so that B's
  // BYE, re-INVITE and ACK come back on it (a TCP trunk's phones would otherwise use UDP).
  const self = `<${scheme}:${x}@localhost${transport}>`;
  return {
    uri: `${scheme}:${target}@${hostport}${params}`,
    headers: {
      From: self,
      To: `<${scheme}:${target}@${hostport}>`,
      Contact: self,
      'P-Asserted-Identity': self,
      // xline acknowledges B's reliable provisional responses itself (drachtio-srf PRACKs
      // them), so a trunk that insists on 100rel can be called whatever A supports.
      Supported: '100rel',
    },
  };
}

export class BLeg {
  /** B's INVITE once drachtio-server sent it. */
  req?: Req;
  /** B's INVITE got a final response, or a CANCEL for it already left: never CANCEL it (again). */
  settled = false;
  /** B sent its first 18x. */
  alerted = false;
  /** B answered (200 OK to its INVITE). */
  answered = false;
  private ringTimer?: NodeJS.Timeout;

  constructor(private readonly log: () => Logger) {}

  /** Marks B alerting; true the first time only. */
  alert(): boolean {
    if (this.alerted) return false;
    this.alerted = true;
    return true;
  }

  /** B's INVITE has its final response: no CANCEL any more, no ring timeout. */
  settle(): void {
    this.settled = true;
    this.stopRinging();
  }

  /** CANCELs B's INVITE with a Q.850 Reason, unless it is not out yet or already settled. */
  cancel(cause: number): void {
    const r = this.req;
    if (!r || this.settled || this.answered) return;
    this.settled = true;
    try {
      r.cancel({ headers: { Reason: reasonHeader(cause) } });
    } catch (err) {
      this.log().info({ err: String(err) }, 'BLeg:CANCEL to B failed');
    }
  }

  /** Runs `onTimeout` when B has not answered within `seconds` (SIP_RING_TIMEOUT). */
  startRinging(seconds: number, onTimeout: () => void): void {
    this.stopRinging();
    this.ringTimer = setTimeout(() => {
      this.ringTimer = undefined;
      if (this.answered) return;
      this.log().info({ ringTimeoutSec: seconds }, 'BLeg:ring timeout');
      onTimeout();
    }, seconds * 1000);
  }

  stopRinging(): void {
    if (this.ringTimer) clearTimeout(this.ringTimer);
    this.ringTimer = undefined;
  }
}
