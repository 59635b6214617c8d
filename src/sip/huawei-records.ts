// What a call reports to the Huawei app it belongs to (HUAWEI.md §5 call events, §5b the CDR),
// built from the same facts as xline's own events and CDR (call-records.ts). Pure.
//   call arrives → callin; digits keyed (AXE) → collectInfo; B leg sent → callout;
//   B ringing → alerting; B answered → answer; end → disconnect (stateCode) and the fee record.
// sessionId is xline's call_id (the caller leg's SIP Call-ID). Times are UTC `yyyy-MM-dd HH:mm:ss`.
import { basename } from 'node:path';
import type { CountryCode } from 'libphonenumber-js';
import { CALL_TYPE } from '../domain/binding.js';
import { huaweiState, type HuaweiState } from '../domain/huawei-state-codes.js';
import { globalNumber } from '../domain/numbers.js';
import { reportTime } from '../domain/wall-clock.js';
import { huaweiTarget, type Delivery, type HuaweiEventType } from '../events/delivery.js';
import type { CallEventType } from '../events/types.js';
import type { CallFacts } from './call-records.js';
import type { CallEnding } from './media-call.js';

/** LENIENT (UNCONFIRMED in Huawei's text): FeeInfo.serviceType, "003" as in Huawei's sample, for every mode. */
export const LENIENT_SERVICE_TYPE = '003';

/** Who the call reports to and the fixed FeeInfo fields (config). */
export interface HuaweiReportTarget {
  appKey: string;
  /** FeeInfo.spId (HUAWEI_CALLBACK_SP_ID, else the appKey). */
  spId: string;
  /** FeeInfo.hostName: this xline instance. */
  hostName: string;
  /** FeeInfo.recordDomain: the host the recording links point at. */
  recordDomain: string;
  home: CountryCode;
}

/** The call facts plus what only the Huawei reports use. */
export interface HuaweiCallFacts extends CallFacts {
  /** When the B leg was sent (callout, fwdStartTime). */
  calloutAt?: number;
  /** Digits the caller keyed last (AXE extension). */
  digits?: string;
  /** When those digits were complete. */
  digitsAt?: number;
}

const utc = (ms: number) => reportTime(ms, 'UTC');

function event(f: HuaweiCallFacts, t: HuaweiReportTarget, type: HuaweiEventType, at: number, extra: Record<string, unknown>, called?: string): Delivery {
  const b = f.binding;
  const g = (n: string) => globalNumber(n, t.home);
  const statusInfo = {
    timestamp: utc(at),
    sessionId: f.callId,
    caller: g(f.caller),
    called: g(called ?? f.secretNo),
    // Huawei: absent in AXE (and when there is no binding)
    ...(b && b.mode !== 'AXE' ? { subscriptionId: b.subsId } : {}),
    ...extra,
  };
  return { id: `${f.callId}:hw.${type}`, type, to: huaweiTarget('status', t.appKey), body: JSON.stringify({ eventType: type, statusInfo }) };
}

/** The call events reported with xline's event `type` (the hangup one needs the ending). */
export function huaweiEvents(f: HuaweiCallFacts, t: HuaweiReportTarget, type: CallEventType, at: number, ending?: CallEnding): Delivery[] {
  const toB = f.target;
  switch (type) {
    case 'start': {
      const userData = f.binding?.huawei?.userData;
      const out = [event(f, t, 'callin', f.receivedAt, userData ? { userData } : {})];
      if (f.digits !== undefined) out.push(event(f, t, 'collectInfo', f.digitsAt ?? at, { digitInfo: f.digits }));
      if (f.calloutAt !== undefined && toB) out.push(event(f, t, 'callout', f.calloutAt, {}, toB));
      return out;
    }
    case 'ring':
      return [event(f, t, 'alerting', at, {}, toB)];
    case 'answer':
      return [event(f, t, 'answer', at, {}, toB)];
    case 'hangup': {
      const s = stateOf(f, ending);
      return [event(f, t, 'disconnect', at, { stateCode: s.code, stateDesc: s.desc }, toB)];
    }
    default:
      return [];
  }
}

export function stateOf(f: CallFacts, e: CallEnding | undefined): HuaweiState {
  return huaweiState({
    answered: f.answerAt !== undefined,
    alerted: f.ringAt !== undefined,
    cause: e?.cause ?? 16,
    ...(e?.controlType ? { controlType: e.controlType } : {}),
    ...(e?.status !== undefined ? { sipStatus: e.status } : {}),
    ...(e?.outcome ? { outcome: e.outcome } : {}),
  });
}

/** FeeInfo.direction: AXB 1 A→B, 0 B→A; AX / AXE 1 A→other, 0 other→A; 2 abnormal (refused). */
function direction(callType: number): number {
  if (callType === CALL_TYPE.CALLER) return 1;
  if (callType === CALL_TYPE.CALLEE) return 0;
  return 2;
}

/** The CDR (one FeeInfo per POST) of a call released at `releaseAt`. */
export function huaweiFee(f: HuaweiCallFacts, t: HuaweiReportTarget, e: CallEnding, releaseAt: number): Delivery {
  const b = f.binding;
  const g = (n: string) => globalNumber(n, t.home);
  const answered = f.answerAt !== undefined;
  const s = stateOf(f, e);
  const recorded = Boolean(f.record.path);
  const fee = {
    direction: direction(f.callType),
    spId: t.spId,
    appKey: t.appKey,
    bindNum: g(f.secretNo),
    sessionId: f.callId,
    subscriptionId: b?.subsId ?? '',
    callerNum: g(f.caller),
    calleeNum: g(f.secretNo),
    ...(f.target ? { fwdDisplayNum: g(f.secretNo), fwdDstNum: g(f.target) } : {}),
    callInTime: utc(f.receivedAt),
    ...(f.calloutAt !== undefined ? { fwdStartTime: utc(f.calloutAt) } : {}),
    ...(f.ringAt !== undefined ? { fwdAlertingTime: utc(f.ringAt) } : {}),
    ...(answered ? { fwdAnswerTime: utc(f.answerAt!) } : {}),
    callEndTime: utc(releaseAt),
    ...(answered ? {} : { failTime: utc(releaseAt) }),
    fwdUnaswRsn: answered ? 0 : e.cause,
    ulFailReason: s.code,
    ...(!answered && e.status !== undefined && e.status >= 300 ? { sipStatusCode: e.status } : {}),
    recordFlag: recorded ? 1 : 0,
    ...(recorded
      ? {
          ...(answered ? { recordStartTime: utc(f.answerAt!) } : {}),
          recordDomain: t.recordDomain,
          recordObjectName: basename(f.record.path!),
          ...(f.record.url ? { recordFileDownloadUrl: f.record.url } : {}),
        }
      : {}),
    ...(b?.huawei?.userData ? { userData: b.huawei.userData } : {}),
    ...(b?.mode === 'AXE' && b.extension ? { extendNum: b.extension } : {}),
    serviceType: LENIENT_SERVICE_TYPE,
    hostName: t.hostName,
  };
  return { id: `${f.callId}:hw.fee`, type: 'fee', to: huaweiTarget('fee', t.appKey), body: JSON.stringify({ eventType: 'fee', feeLst: [fee] }) };
}
