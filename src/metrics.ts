// One Prometheus registry for the process; modules register their own metrics on it.
import { Registry, collectDefaultMetrics } from 'prom-client';

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'xline_' });
  return registry;
}
