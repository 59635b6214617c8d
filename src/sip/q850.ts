// Q.850 causes on SIP: the `Reason: Q.850;cause=N` header xline puts on refusals and relays
// from the far end, and the SIP status → cause mapping (RFC 3398 §8.2.6.1) used when the far
// end gave no Reason. Pure.

/** SIP status → Q.850 cause, RFC 3398 with the common carrier choices for 480 and 487. */
const STATUS_TO_CAUSE: Record<number, number> = {
  400: 41, 401: 21, 402: 21, 403: 21, 404: 1, 405: 63, 406: 79, 407: 21, 408: 102, 410: 22,
  413: 127, 414: 127, 415: 79, 416: 127, 420: 127, 421: 127, 423: 127,
  // 480 Temporarily Unavailable: RFC 3398 says 18; when it follows a 180 the user was alerted, so 19.
  480: 18,
  481: 41, 482: 25, 483: 25, 484: 28, 485: 1, 486: 17, 487: 127, 488: 127,
  500: 41, 501: 79, 502: 38, 503: 41, 504: 102, 505: 127, 513: 127,
  600: 17, 603: 21, 604: 1, 606: 58,
};

export function causeForStatus(status: number, alerted = false): number {
  if (status === 480 && alerted) return 19;
  return STATUS_TO_CAUSE[status] ?? (status >= 500 ? 41 : 31);
}

/** Q.850 cause → SIP status for a refusal or release we originate (RFC 3398 §7.2.4.1, abridged). */
export function statusForCause(cause: number): number {
  switch (cause) {
    case 1: return 404;
    case 17: return 486;
    case 18: return 408;
    case 19: return 480;
    case 21: return 403;
    case 41: return 503;
    case 102: return 504;
    default: return 480;
  }
}

/** `Q.850;cause=17;text="User busy"` → 17. Accepts several Reason values separated by commas. */
export function parseQ850(header: string | undefined | null): number | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /^\s*Q\.850\s*;(?:.*;)?\s*cause\s*=\s*(\d{1,3})/i.exec(part);
    if (m) {
      const n = Number(m[1]);
      if (n >= 1 && n <= 127) return n;
    }
  }
  return undefined;
}

export function reasonHeader(cause: number, text?: string): string {
  const safe = text?.replace(/["\\\r\n]/g, '');
  return safe ? `Q.850;cause=${cause};text="${safe}"` : `Q.850;cause=${cause}`;
}
