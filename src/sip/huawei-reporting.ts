// A call's reports to the Huawei app it belongs to (huawei-records.ts builds them): which app
// (the binding's, or for a call refused without one the app drawing from X's pool), and the
// moments only Huawei reports carry (B leg sent, digits keyed). One per call, made only when the
// SIP app has Huawei reporting (a Redis binding store).
import { hostname } from 'node:os';
import type { CountryCode } from 'libphonenumber-js';
import type { Config } from '../config.js';
import type { Binding } from '../domain/binding.js';
import { RELEASE_MARK_MS, type Delivery } from '../events/delivery.js';
import { REAPED_CAUSE, REAPED_CONTROL_TYPE } from '../events/reaper.js';
import type { CallEventType } from '../events/types.js';
import type { CallFacts } from './call-records.js';
import { huaweiEvents, huaweiFee, type HuaweiCallFacts, type HuaweiReportTarget } from './huawei-records.js';
import type { CallEnding } from './media-call.js';

export interface HuaweiReporting {
  /** The fixed parts of a report to `appKey` (config). */
  target(appKey: string): HuaweiReportTarget;
  /** The app whose pool holds X (canonical), for calls refused without a binding. */
  appOfNumber(x: string): Promise<string | undefined>;
}

/** How a reaped call ended (events/reaper.ts): the platform lost it. */
const LOST: CallEnding = { dir: 0, cause: REAPED_CAUSE, controlType: REAPED_CONTROL_TYPE };

export class HuaweiCallReports {
  private appKey?: string;
  private calloutAt?: number;
  private digits?: string;
  private digitsAt?: number;

  constructor(private readonly env: HuaweiReporting) {}

  /** B's INVITE has left. */
  calloutSent(at: number): void {
    this.calloutAt ??= at;
  }

  /** The caller keyed an extension (the last entry counts). */
  keyed(digits: string, at: number): void {
    this.digits = digits;
    this.digitsAt = at;
  }

  /**
   * At the call's end, before its last reports: a call with no binding (refused: no binding, not
   * a party, wrong extension) reports to the app drawing from X's pool, if there is one. Not when
   * the call was refused because the store is unavailable: its CDR must not wait on it.
   */
  async findApp(x: string, ending: CallEnding): Promise<void> {
    if (this.appKey || !x || ending.controlType === 'unavailable') return;
    this.appKey = await this.env.appOfNumber(x).catch(() => undefined);
  }

  /**
   * The call events that go with xline's event `type`; undefined when the call is no Huawei
   * app's. While the call is live, also its disconnect and fee record as they would be if this
   * instance died now (`ifLost`: kept with the call for a reaper; the latest replaces the last).
   */
  events(f: CallFacts, type: CallEventType, at: number, ending?: CallEnding): Delivery[] | undefined {
    const t = this.target(f.binding);
    if (!t) return undefined;
    const facts = this.facts(f);
    const now = huaweiEvents(facts, t, type, at, ending);
    if (ending || (type !== 'start' && type !== 'ring' && type !== 'answer')) return now;
    const lost = [...huaweiEvents(facts, t, 'hangup', RELEASE_MARK_MS, LOST), huaweiFee(facts, t, LOST, RELEASE_MARK_MS)];
    return [...now, ...lost.map((d) => ({ ...d, ifLost: true as const }))];
  }

  fee(f: CallFacts, ending: CallEnding, releaseAt: number): Delivery[] | undefined {
    const t = this.target(f.binding);
    return t && [huaweiFee(this.facts(f), t, ending, releaseAt)];
  }

  private target(binding: Binding | undefined): HuaweiReportTarget | undefined {
    const appKey = binding ? binding.huawei?.appKey : this.appKey;
    return appKey ? this.env.target(appKey) : undefined;
  }

  private facts(f: CallFacts): HuaweiCallFacts {
    return {
      ...f,
      ...(this.calloutAt !== undefined ? { calloutAt: this.calloutAt } : {}),
      ...(this.digits !== undefined ? { digits: this.digits, digitsAt: this.digitsAt ?? f.receivedAt } : {}),
    };
  }
}

/** Huawei reporting on the app store (appOfNumber) with the FeeInfo constants of `config`. */
export function huaweiReporting(
  config: Pick<Config, 'HUAWEI_CALLBACK_SP_ID' | 'XLINE_INSTANCE_ID' | 'PUBLIC_BASE_URL' | 'ADMIN_HOST' | 'DEFAULT_COUNTRY'>,
  apps: { appOfNumber(x: string): Promise<{ appKey: string } | undefined> },
): HuaweiReporting {
  const hostName = config.XLINE_INSTANCE_ID ?? hostname();
  // the host the recording links (recordFileDownloadUrl) point at
  const recordDomain = config.PUBLIC_BASE_URL ? new URL(config.PUBLIC_BASE_URL).hostname : config.ADMIN_HOST;
  const home = config.DEFAULT_COUNTRY as CountryCode;
  return {
    target: (appKey) => ({ appKey, spId: config.HUAWEI_CALLBACK_SP_ID ?? appKey, hostName, recordDomain, home }),
    appOfNumber: async (x) => (await apps.appOfNumber(x))?.appKey,
  };
}
