// The routing decision: given who called which X and what the store found, bridge, collect an
// extension, or refuse. Pure; the SIP adapter calls it, never the other way round (STYLE §2).
import type { Binding, RingKey } from './binding.js';
import { CALL_TYPE } from './binding.js';
import { callbackRecordSeconds, liveCallback, liveTempCallee, type CallbackRecord } from './huawei-binding.js';

/** What the one-round-trip store lookup answers for (caller, X, extension?). */
export type Lookup =
  /** X unknown, or no live binding on X (or extension not bound). */
  | { kind: 'none' }
  /** X has live AXB bindings but the caller is party to none of them. */
  | { kind: 'stranger' }
  /** AXN extension X, caller not an A there, no extension given yet: prompt for one. */
  /** extensionDigits: the longest extension X has had (absent for bindings made before it was kept). */
  | { kind: 'need-extension'; poolKey: string; extensionDigits?: number }
  /** The binding that applies; role = who the caller is in it. */
  /** now: the store's clock at the lookup (unix seconds), for the binding's own timers. */
  /** lastCaller: AXE, the caller is A: the binding's callback record (who last reached A through X). */
  | { kind: 'match'; binding: Binding; role: 'A' | 'B' | 'N'; now?: number; lastCaller?: CallbackRecord };

/**
 * Huawei AXE: after a call is put through to A, the store records its caller as A's last caller
 * on the binding for `seconds` (0: as long as the binding), for A's next call to X.
 */
export interface CallbackNote {
  poolKey: string;
  x: string;
  subsId: string;
  caller: string;
  seconds: number;
}

export interface CallFacts {
  caller: string;
  x: string;
  /** Digits the caller entered (AXN extension), when already collected. */
  extension?: string;
}

export type Decision =
  | {
      kind: 'bridge';
      binding: Binding;
      /** Real number to ring, in the binding's stored form. */
      target: string;
      /** Alibaba call_type of the CDR: 0 when the binding's A/phone_no side called. */
      callType: number;
      ringKey?: RingKey;
      record: boolean;
      /** Huawei AXE, someone reached A: record the caller for A's callback (after routing). */
      remember?: CallbackNote;
    }
  /** Prompt for an extension; stop collecting at extensionDigits digits when known. */
  | { kind: 'collect'; poolKey: string; extensionDigits?: number }
  | { kind: 'refuse'; status: 403 | 404; cause: number; reason: RefuseReason; binding?: Binding }
  /**
   * Huawei AXE, A called X with no callback record and only a callbackTone: play `tone` (a ring-tone
   * id as the client named it) to A, then hang up; without media, the refusal it carries.
   */
  | { kind: 'announce'; tone: string; refusal: Extract<Decision, { kind: 'refuse' }> };

export type BridgeDecision = Extract<Decision, { kind: 'bridge' }>;
export type CollectDecision = Extract<Decision, { kind: 'collect' }>;

export type RefuseReason = 'no-binding' | 'not-a-party' | 'call-restricted' | 'no-default-b' | 'self-call' | 'no-callback';

/** Q.850 causes used when refusing (DESIGN §5). */
export const Q850 = {
  UNALLOCATED: 1,
  NORMAL_CLEARING: 16,
  USER_BUSY: 17,
  NO_USER_RESPONSE: 18,
  NO_ANSWER: 19,
  CALL_REJECTED: 21,
  NORMAL_UNSPECIFIED: 31,
  TEMPORARY_FAILURE: 41,
  RECOVERY_ON_TIMER_EXPIRE: 102,
} as const;

const refuse = (status: 403 | 404, reason: RefuseReason, binding?: Binding): Decision => ({
  kind: 'refuse',
  status,
  cause: status === 404 ? Q850.UNALLOCATED : Q850.CALL_REJECTED,
  reason,
  ...(binding ? { binding } : {}),
});

export function decide(call: CallFacts, found: Lookup): Decision {
  switch (found.kind) {
    case 'none':
      return refuse(404, 'no-binding');
    case 'stranger':
      return refuse(403, 'not-a-party');
    case 'need-extension':
      return { kind: 'collect', poolKey: found.poolKey, ...(found.extensionDigits ? { extensionDigits: found.extensionDigits } : {}) };
    case 'match':
      return decideMatch(call, found.binding, found.role, found.now, found.lastCaller);
  }
}

function decideMatch(call: CallFacts, b: Binding, role: 'A' | 'B' | 'N', now: number | undefined, lastCaller?: CallbackRecord): Decision {
  const bridge = (target: string, callType: number, ringKey?: RingKey): Decision => ({
    kind: 'bridge',
    binding: b,
    target,
    callType,
    record: b.recording,
    ...(ringKey ? { ringKey } : {}),
  });
  // CONTROL_AX_DISABLE stops the binding's A from calling out through X;
  // CONTROL_BX_DISABLE stops the other side (B, or any N) from calling in.
  if (role === 'A' && b.callRestrict === 'CONTROL_AX_DISABLE') return refuse(403, 'call-restricted', b);
  if (role !== 'A' && b.callRestrict === 'CONTROL_BX_DISABLE') return refuse(403, 'call-restricted', b);

  switch (b.mode) {
    case 'AXB':
      if (role === 'A') return bridge(need(b.b), CALL_TYPE.CALLER, 'AXBRing_A');
      if (role === 'B') return bridge(b.a, CALL_TYPE.CALLEE, 'AXBRing_B');
      return refuse(403, 'not-a-party', b);
    case 'AXN':
    case 'AXE':
      if (role === 'A') {
        if (b.b) return bridge(b.b, CALL_TYPE.CALLER, 'AXNRing_AB');
        return b.huawei ? decideCallback(b, now, lastCaller, bridge) : refuse(404, 'no-default-b', b);
      }
      if (b.mode === 'AXE' && b.huawei) {
        const remember: CallbackNote = { poolKey: b.poolKey, x: b.x, subsId: b.subsId, caller: call.caller, seconds: callbackRecordSeconds(b.huawei) };
        return { ...(bridge(b.a, CALL_TYPE.CALLEE, 'AXNRing_N') as BridgeDecision), remember };
      }
      return bridge(b.a, CALL_TYPE.CALLEE, 'AXNRing_N');
    case 'AX': {
      if (call.caller !== b.a) return bridge(b.a, CALL_TYPE.CALLEE);
      // Huawei AX: A dialling its X reaches the temporary callee set for it while that lasts;
      // without one (Huawei's 8013) A calling its own X is refused as before
      // (a lookup that does not say when it ran gets no temporary callee)
      const callee = now === undefined ? undefined : liveTempCallee(b.huawei, now);
      return callee ? bridge(callee.number, CALL_TYPE.CALLER) : refuse(403, 'self-call', b);
    }
  }
}

/**
 * Huawei AXE, A called X: its last caller while the callback record lasts, else the binding's
 * callbackNum, else its callbackTone then hang-up, else refused (Huawei's 8019, no callback record).
 */
function decideCallback(b: Binding, now: number | undefined, lastCaller: CallbackRecord | undefined, bridge: (to: string, callType: number, ringKey?: RingKey) => Decision): Decision {
  const back = now === undefined ? undefined : liveCallback(lastCaller, now);
  if (back) return bridge(back, CALL_TYPE.CALLER, 'AXNRing_AB');
  if (b.huawei?.callbackNum) return bridge(b.huawei.callbackNum, CALL_TYPE.CALLER, 'AXNRing_AB');
  const refusal = refuse(404, 'no-callback', b) as Extract<Decision, { kind: 'refuse' }>;
  return b.huawei?.callbackTone ? { kind: 'announce', tone: b.huawei.callbackTone, refusal } : refusal;
}

function need(v: string | undefined): string {
  if (!v) throw new Error('AXB binding without B');
  return v;
}
