// The SIP app's Prometheus metrics, registered once per registry (tests start several apps).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type CallOutcome =
  | 'answered'
  | 'refused'
  | 'untrusted'
  | 'unavailable'
  | 'failed'
  | 'canceled'
  | 'no-answer'
  | 'error';

export interface SipMetrics {
  calls: Counter<'outcome'>;
  live: Gauge;
  pdd: Histogram;
  routing: Histogram;
}

export function sipMetrics(registry: Registry): SipMetrics {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    calls: get('xline_sip_calls_total', () =>
      new Counter({ name: 'xline_sip_calls_total', help: 'INVITEs for X numbers by final outcome', labelNames: ['outcome'], registers: [registry] }),
    ),
    live: get('xline_sip_live_calls', () =>
      new Gauge({ name: 'xline_sip_live_calls', help: 'Calls being routed, ringing or connected', registers: [registry] }),
    ),
    pdd: get('xline_sip_post_dial_delay_seconds', () =>
      new Histogram({
        name: 'xline_sip_post_dial_delay_seconds',
        help: "From the caller's INVITE to the first 18x relayed back (post-dial delay added by xline and the far end)",
        buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
        registers: [registry],
      }),
    ),
    routing: get('xline_sip_routing_seconds', () =>
      new Histogram({
        name: 'xline_sip_routing_seconds',
        help: "xline's own share of post-dial delay: caller's INVITE in → B leg INVITE handed to drachtio-server (ACL, lookup, decision)",
        buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
        registers: [registry],
      }),
    ),
  };
}
