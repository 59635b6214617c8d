// Prometheus metrics of event delivery, registered once per registry (tests build several
// pipelines on one registry; prom-client refuses a second metric of the same name).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface EventMetrics {
  queued: Counter<'type'>;
  delivered: Counter<'type'>;
  retried: Counter<'type'>;
  deadLettered: Counter<'type'>;
  /** Written to the local spool because Redis was unreachable (replayed later). */
  spooled: Counter<'type'>;
  /** Calls of a dead instance ended by a reaper (a CDR written on its behalf). */
  reaped: Counter;
  /** Queued (for a CDR: the hangup) → the receiver's 2xx, retries included. */
  latency: Histogram<'type'>;
  depth: Gauge<'queue'>;
}

const cache = new WeakMap<Registry, EventMetrics>();

/** `depth` reads Redis when scraped; `readDepth` is set by the pipeline that owns the store. */
export function eventMetrics(registry: Registry, readDepth: () => Promise<Record<'queued' | 'retrying' | 'dead', number>>): EventMetrics {
  const have = cache.get(registry);
  if (have) return have;
  const registers = [registry];
  const m: EventMetrics = {
    queued: new Counter({ name: 'xline_events_queued_total', help: 'Events and CDRs queued for webhook delivery', labelNames: ['type'], registers }),
    delivered: new Counter({ name: 'xline_events_delivered_total', help: 'Events delivered (receiver answered 2xx)', labelNames: ['type'], registers }),
    retried: new Counter({ name: 'xline_events_retried_total', help: 'Failed delivery attempts scheduled for a retry', labelNames: ['type'], registers }),
    deadLettered: new Counter({ name: 'xline_events_dead_lettered_total', help: 'Events that exhausted the retry schedule', labelNames: ['type'], registers }),
    spooled: new Counter({ name: 'xline_events_spooled_total', help: 'Events and CDRs spooled to local disk while Redis was unreachable', labelNames: ['type'], registers }),
    reaped: new Counter({
      name: 'xline_events_reaped_calls_total',
      help: 'Live calls of an xline instance that stopped heartbeating, ended by this instance with a CDR (release_dir 0, cause 41)',
      registers,
    }),
    latency: new Histogram({
      name: 'xline_event_delivery_latency_seconds',
      help: 'From queueing (for CDRs: hangup) to the 2xx of the delivering POST, retries included',
      labelNames: ['type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600],
      registers,
    }),
    depth: new Gauge({
      name: 'xline_events_queue_depth',
      help: 'Events waiting: queued (incl. in flight), retrying (waiting for their next attempt), dead',
      labelNames: ['queue'],
      registers,
      async collect() {
        try {
          const d = await readDepth();
          this.set({ queue: 'queued' }, d.queued);
          this.set({ queue: 'retrying' }, d.retrying);
          this.set({ queue: 'dead' }, d.dead);
        } catch {
          // Redis unreachable: keep the last values rather than failing the whole scrape
        }
      },
    }),
  };
  cache.set(registry, m);
  return m;
}
