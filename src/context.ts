// What main.ts hands to each adapter's factory: dependencies, not globals.
import type { Registry } from 'prom-client';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { BindingStore } from './store/types.js';
import type { CallEventSink } from './events/types.js';
import type { EventStore } from './events/store.js';
import type { MediaRelay } from './media-relay/rtpengine.js';

export interface Health {
  /** Connected to drachtio-server (SIP role). */
  sip: boolean;
  /** Connected to FreeSWITCH. */
  media: boolean;
  /** rtpengine answers (RTPENGINE_NG); undefined when no relay is configured. */
  relay?: boolean;
  /** Per drachtio-server, when the SIP app runs (DRACHTIO_SERVERS may name several). */
  readonly drachtio?: ReadonlyArray<{ server: string; sip: boolean; media: boolean }>;
}

export interface AppContext {
  config: Config;
  log: Logger;
  store: BindingStore;
  events: CallEventSink;
  /**
   * What the events pipeline recorded (CDRs, live call states, dead letters), read by the ops
   * events routes and QueryCallStatus; absent when no pipeline runs (API tests): those answer
   * as not found.
   */
  callEvents?: EventStore;
  metrics: Registry;
  health: Health;
  /** The media relay, when RTPENGINE_NG is set (one per process, shared by every SIP app). */
  relay?: MediaRelay;
}
