// What every CallSession of one SIP app shares: the drachtio connection, config, events, metrics,
// the registry of live sessions, the B-leg target, the media relay and the store lookup.
import type Srf from 'drachtio-srf';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { CallbackNote, Decision } from '../domain/route.js';
import type { CallEventSink } from '../events/types.js';
import type { MediaRelay } from '../media-relay/rtpengine.js';
import type { OutboundTarget } from './b-leg.js';
import type { CallSession } from './call-session.js';
import type { HuaweiReporting } from './huawei-reporting.js';
import type { SipMetrics } from './metrics.js';
import type { SessionRegistry } from './session-registry.js';

export interface SessionEnv {
  srf: Srf & Srf.SrfExtras;
  config: Config;
  log: Logger;
  events: CallEventSink;
  metrics: SipMetrics;
  registry: SessionRegistry<CallSession>;
  outbound: OutboundTarget;
  /** rtpengine (RTPENGINE_NG): anchors every bridged call's media. Unset: SDP is only rewritten. */
  relay?: MediaRelay;
  /** One store lookup + decide(), shared with the INVITE middleware. */
  route(caller: string, x: string, extension?: string): Promise<Decision>;
  /** Huawei AXE: records a bridge's caller as A's last caller (after the B INVITE left; never awaited). */
  rememberCaller?(note: CallbackNote): void;
  /** Reports to Huawei apps (their bindings' calls); unset: none (no Redis binding store). */
  huawei?: HuaweiReporting;
}
