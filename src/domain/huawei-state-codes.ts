// Huawei's hang-up reasons (HUAWEI.md §5: the disconnect event's stateCode / stateDesc and the
// CDR's ulFailReason) from how an xline call ended: the control type xline wrote for the calls it
// refused or cut, else the B leg's SIP outcome. Pure. The choices Huawei's text leaves open are
// the LENIENT_* constants below (README, Huawei callbacks).

/** How a call ended, as the call session knows it. */
export interface CallEndFacts {
  answered: boolean;
  /** B sent a 18x. */
  alerted: boolean;
  /** xline's control type (src/events/types.ts unconnectedCause lists them), when xline refused or cut the call. */
  controlType?: string;
  /** The final SIP status the caller got (B's failure relayed, or xline's refusal), when not answered. */
  sipStatus?: number;
  /** Q.850 cause of the release. */
  cause: number;
  /** Call outcome: 'canceled' (the caller gave up), 'no-answer' (xline's ring timer), … */
  outcome?: string;
}

export interface HuaweiState {
  code: number;
  desc: string;
}

/** Huawei's codes and their English texts, in the style of Huawei's "The user releases the call." */
export const HUAWEI_STATE = {
  NORMAL: { code: 0, desc: 'The user releases the call.' },
  MAX_DURATION: { code: 8010, desc: 'The call duration reached the maximum (maxDuration).' },
  AX_NO_CALLEE: { code: 8013, desc: 'No temporary callee is set for the AX call.' },
  NO_BINDING: { code: 8014, desc: 'The binding does not exist.' },
  DIRECTION_NOT_ALLOWED: { code: 8016, desc: 'The call direction is not allowed.' },
  NO_CALLBACK: { code: 8019, desc: 'No callback record exists.' },
  AXE_NO_BINDING: { code: 8022, desc: 'The AXE binding does not exist or has expired.' },
  CONNECT_TIMEOUT: { code: 8035, desc: 'The call connection timed out.' },
  CALLEE_NOT_EXIST: { code: 8100, desc: 'The callee does not exist.' },
  NO_ANSWER: { code: 8101, desc: 'The callee does not answer.' },
  BUSY: { code: 8102, desc: 'The callee is busy.' },
  POWERED_OFF: { code: 8104, desc: 'The callee is powered off.' },
} as const satisfies Record<string, HuaweiState>;

/**
 * LENIENT: a call ended by the Huawei callStop API (control type 'call-stop'): Huawei lists no
 * code for it; 0 with a text saying the platform released it.
 */
export const LENIENT_CALL_STOP: HuaweiState = { code: 0, desc: 'The platform releases the call (callStop).' };

/**
 * LENIENT: xline's own failures (Redis or FreeSWITCH unavailable, shutting down, an instance
 * lost mid-call) and B failures SIP does not classify (5xx, 403…): Huawei lists no code; 0 with
 * a text naming the failure, the CDR's fwdUnaswRsn and sipStatusCode saying the rest.
 */
export const lenientPlatformFailure = (what: string): HuaweiState => ({ code: 0, desc: `The platform releases the call: ${what}.` });

const BY_CONTROL_TYPE: Record<string, HuaweiState> = {
  'max-duration': HUAWEI_STATE.MAX_DURATION,
  'call-stop': LENIENT_CALL_STOP,
  'self-call': HUAWEI_STATE.AX_NO_CALLEE,
  'no-binding': HUAWEI_STATE.NO_BINDING,
  'not-a-party': HUAWEI_STATE.NO_BINDING,
  'call-restricted': HUAWEI_STATE.DIRECTION_NOT_ALLOWED,
  'no-default-b': HUAWEI_STATE.NO_CALLBACK,
  'wrong-extension': HUAWEI_STATE.AXE_NO_BINDING,
  'no-extension': HUAWEI_STATE.AXE_NO_BINDING,
};

/** Q.850 20, subscriber absent: what a network says of a phone that is off. */
const SUBSCRIBER_ABSENT = 20;

export function huaweiState(f: CallEndFacts): HuaweiState {
  if (f.controlType) {
    const known = BY_CONTROL_TYPE[f.controlType];
    if (known) return known;
    return lenientPlatformFailure(f.controlType);
  }
  if (f.answered || f.outcome === 'canceled') return HUAWEI_STATE.NORMAL;
  if (f.outcome === 'error' || f.outcome === 'unavailable') return lenientPlatformFailure(f.outcome);
  if (f.cause === SUBSCRIBER_ABSENT) return HUAWEI_STATE.POWERED_OFF;
  const s = f.sipStatus;
  // xline's ring timer or B's own timeout: before any 18x the connection never came up
  if (f.outcome === 'no-answer' || s === 408) return f.alerted ? HUAWEI_STATE.NO_ANSWER : HUAWEI_STATE.CONNECT_TIMEOUT;
  if (s === 404 || s === 604) return HUAWEI_STATE.CALLEE_NOT_EXIST;
  if (s === 480 || s === 487) return HUAWEI_STATE.NO_ANSWER;
  if (s === 486 || s === 600) return HUAWEI_STATE.BUSY;
  if (s === undefined) return HUAWEI_STATE.NORMAL;
  return lenientPlatformFailure(`SIP ${s}`);
}
