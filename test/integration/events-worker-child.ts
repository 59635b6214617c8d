// A separate xline events process for the crash test: runs the delivery pipeline until it is
// killed. Env: REDIS_URL, WEBHOOK_URL, WEBHOOK_SECRET, XLINE_INSTANCE_ID, WEBHOOK_* as xline's.
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createEventPipeline } from '../../src/events/pipeline.js';

const config = loadConfig();
const redis = new Redis(config.REDIS_URL!);
const pipeline = createEventPipeline({ redis, config, log: createLogger(config.LOG_LEVEL), metrics: new Registry() });
pipeline.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void pipeline.stop().then(() => {
    redis.disconnect();
    process.exit(0);
  });
});
