// The set-up every test of xline's SIP app shares (test/sip/harness.ts, test/media/harness.ts):
// the config naming a test drachtio-server, the trunk on loopback and the far end's port, and
// the app context around the test's store and event sink.
import { Registry } from 'prom-client';
import { loadConfig, type Config } from '../../src/config.js';
import type { AppContext } from '../../src/context.js';
import type { CallEventSink } from '../../src/events/types.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { BindingStore } from '../../src/store/types.js';
import type { DrachtioServer } from './drachtio.js';

/** Config for a SIP app on `drachtio`, trunk 127.0.0.1, B legs to `sip:127.0.0.1:<farEndPort>`; `env` on top. */
export function sipAppConfig(drachtio: DrachtioServer, farEndPort: number, env: Record<string, string>, farEndTransport: 'udp' | 'tcp' = 'udp'): Config {
  return loadConfig({
    DRACHTIO_HOST: '127.0.0.1',
    DRACHTIO_PORT: String(drachtio.adminPort),
    DRACHTIO_SECRET: drachtio.secret,
    SIP_TRUNK_CIDRS: '127.0.0.1/32',
    SIP_OUTBOUND_URI: `sip:127.0.0.1:${farEndPort}${farEndTransport === 'tcp' ? ';transport=tcp' : ''}`,
    LOG_LEVEL: 'silent',
    ...env,
  });
}

/** The app context of a test: its store and sink, a fresh metrics registry, TEST_LOG_LEVEL logs unless `log`. */
export function sipAppContext(config: Config, store: BindingStore, events: CallEventSink, log?: Logger): AppContext {
  return {
    config,
    log: log ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    store,
    events,
    metrics: new Registry(),
    health: { sip: false, media: false },
  };
}
