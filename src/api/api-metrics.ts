// Admin API metrics on the process registry: dypls requests by action and answer code, and
// latency by action; ops REST requests by route and status; connections refused over the limit.
import { Counter, Histogram, type Registry } from 'prom-client';

function once<T>(registry: Registry, name: string, make: () => T): T {
  // Several apps may share one registry (tests): reuse what is already registered.
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export interface ApiMetrics {
  dypls: Counter<'action' | 'code'>;
  dyplsLatency: Histogram<'action'>;
  ops: Counter<'route' | 'status'>;
  /** Connections closed on accept because ADMIN_MAX_CONNECTIONS were open. */
  dropped: Counter;
}

export function apiMetrics(registry: Registry): ApiMetrics {
  return {
    dypls: once(
      registry,
      'xline_api_requests_total',
      () =>
        new Counter({
          name: 'xline_api_requests_total',
          help: 'dypls-compatible API requests by Action and answer Code',
          labelNames: ['action', 'code'] as const,
          registers: [registry],
        }),
    ),
    dyplsLatency: once(
      registry,
      'xline_api_request_duration_seconds',
      () =>
        new Histogram({
          name: 'xline_api_request_duration_seconds',
          help: 'dypls-compatible API request handling time by Action',
          labelNames: ['action'] as const,
          buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
          registers: [registry],
        }),
    ),
    ops: once(
      registry,
      'xline_ops_requests_total',
      () =>
        new Counter({
          name: 'xline_ops_requests_total',
          help: 'ops REST requests by route and HTTP status',
          labelNames: ['route', 'status'] as const,
          registers: [registry],
        }),
    ),
    dropped: once(
      registry,
      'xline_api_connections_dropped_total',
      () =>
        new Counter({
          name: 'xline_api_connections_dropped_total',
          help: 'admin HTTP connections closed on accept because ADMIN_MAX_CONNECTIONS were open',
          registers: [registry],
        }),
    ),
  };
}
