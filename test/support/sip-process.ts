// xline processes (test/support/xline-process.ts) on a real SIP site, written once: the env that
// points a process at the test's redis-server, drachtio-server(s) and FreeSWITCH (or a closed
// port where FreeSWITCH would be: plain bridges need no media), with the trunk on loopback and B
// legs to the far end's port; and a site that starts those servers, the processes on them and
// sipp calls through them, and stops all of it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { freePort, type RedisChild } from '../../src/store/embedded-redis.js';
import { freeUdpTcpPort, startDrachtio, type DrachtioServer } from './drachtio.js';
import { startFreeSwitch, type FreeSwitch } from './freeswitch.js';
import { startTestRedis } from './redis.js';
import { cleanupSipp, startSipp, type SippResult } from './sipp.js';
import { startXlineProcess, type XlineProcess } from './xline-process.js';

/** An access key for the dypls API and the ops token, as a process is given them. */
export interface ProcessKeys {
  accessKeyId: string;
  accessKeySecret: string;
  opsToken: string;
}

export interface SipProcessEnvOptions {
  redisUrl: string;
  /** One drachtio-server (DRACHTIO_HOST / DRACHTIO_PORT) or several (DRACHTIO_SERVERS); the first one's secret. */
  drachtio: DrachtioServer | DrachtioServer[];
  /** FreeSWITCH to use; without one, a closed port. */
  freeswitch?: FreeSwitch;
  /** The far end's port (SIP_OUTBOUND_URI); a free one nobody listens on unless given. */
  farEndPort?: number;
  /** The process's files: EVENT_SPOOL_DIR (dir/<spool>), RECORDING_DIR (dir/recordings), RING_TONE_DIR (dir/tones). */
  dir: string;
  /** The spool's folder in dir (default 'spool'). */
  spool?: string;
  keys?: ProcessKeys;
  /** SIP_TRUNK_CIDRS (default 127.0.0.1/32). */
  trunkCidrs?: string;
}

/** The env of an xline process on the given servers (add a test's own settings on top). */
export async function sipProcessEnv(o: SipProcessEnvOptions): Promise<Record<string, string>> {
  const servers = Array.isArray(o.drachtio) ? o.drachtio : [o.drachtio];
  const first = servers[0];
  if (!first) throw new Error('sipProcessEnv: no drachtio-server');
  return {
    REDIS_URL: o.redisUrl,
    ...(servers.length === 1
      ? { DRACHTIO_HOST: '127.0.0.1', DRACHTIO_PORT: String(first.adminPort) }
      : { DRACHTIO_SERVERS: servers.map((d) => `127.0.0.1:${d.adminPort}`).join(',') }),
    DRACHTIO_SECRET: first.secret,
    FREESWITCH_HOST: '127.0.0.1',
    FREESWITCH_PORT: String(o.freeswitch?.eslPort ?? (await freePort())),
    FREESWITCH_SECRET: o.freeswitch?.password ?? 'ClueCon',
    SIP_TRUNK_CIDRS: o.trunkCidrs ?? '127.0.0.1/32',
    SIP_OUTBOUND_URI: `sip:127.0.0.1:${o.farEndPort ?? (await freeUdpTcpPort())}`,
    EVENT_SPOOL_DIR: join(o.dir, o.spool ?? 'spool'),
    RECORDING_DIR: join(o.dir, 'recordings'),
    RING_TONE_DIR: join(o.dir, 'tones'),
    ...(o.keys ? { ACCESS_KEYS: `${o.keys.accessKeyId}:${o.keys.accessKeySecret}`, OPS_TOKEN: o.keys.opsToken } : {}),
  };
}

export interface SipSiteCall {
  /** Both sipps' results once they ended, each checked to have ended 0 (its scenario met). */
  done(): Promise<{ a: SippResult; b: SippResult }>;
}

export interface SipSite {
  /** A temporary directory of the site's (removed at stop). */
  dir: string;
  redis: RedisChild;
  drachtio: DrachtioServer;
  freeswitch?: FreeSwitch;
  /** Where B legs go (SIP_OUTBOUND_URI) and call()'s far end listens. */
  farEndPort: number;
  /** sipProcessEnv on this site's servers, with its dir and far end. */
  env(o?: { keys?: ProcessKeys; spool?: string; trunkCidrs?: string }): Promise<Record<string, string>>;
  /** An xline process with `env` (usually this.env() and more); stopped at stop(). */
  startXline(name: string, env: Record<string, string>): Promise<XlineProcess>;
  /** sipp as B answering on farEndPort, and as A calling X through the drachtio-server. */
  call(o: { x: string; a: string; b: string; uac?: string; holdMs?: number; timeoutSec?: number }): Promise<SipSiteCall>;
  /** Stops the processes (SIGTERM, SIGKILL after 5 s), then the servers; removes the sipp files and dir. */
  stop(): Promise<void>;
}

/** redis-server, a drachtio-server and (if asked) FreeSWITCH for xline processes, on free ports. */
export async function startSipSite(name: string, o: { freeswitch?: boolean } = {}): Promise<SipSite> {
  const dir = mkdtempSync(join(tmpdir(), `xline-${name}-`));
  const processes: XlineProcess[] = [];
  const results: SippResult[] = [];
  const started = await Promise.allSettled([startTestRedis(), startDrachtio(), o.freeswitch ? startFreeSwitch() : undefined]);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    // what did start is stopped again
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value?.stop() : undefined)));
    rmSync(dir, { recursive: true, force: true });
    throw failed.reason;
  }
  const [redis, drachtio, freeswitch] = started.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [RedisChild, DrachtioServer, FreeSwitch | undefined];
  const farEndPort = await freeUdpTcpPort();
  const site: SipSite = {
    dir,
    redis,
    drachtio,
    ...(freeswitch ? { freeswitch } : {}),
    farEndPort,
    env: (e = {}) => sipProcessEnv({ redisUrl: redis.url, drachtio, ...(freeswitch ? { freeswitch } : {}), farEndPort, dir, ...e }),
    async startXline(processName, env) {
      const x = await startXlineProcess(processName, env);
      processes.push(x);
      return x;
    },
    async call(c) {
      const timeoutSec = c.timeoutSec ?? 30;
      const far = await startSipp({ scenario: 'uas-answer.xml', port: farEndPort, service: c.b, calls: 1, durationMs: 100, timeoutSec });
      const caller = await startSipp({
        scenario: c.uac ?? 'uac-call-expect-200.xml',
        remote: `127.0.0.1:${drachtio.sipPort}`,
        service: c.x,
        caller: c.a,
        ...(c.holdMs !== undefined ? { durationMs: c.holdMs } : {}),
        timeoutSec,
      });
      return {
        async done() {
          const [a, b] = await Promise.all([caller.done, far.done]);
          results.push(a, b);
          expect(a.code, `${a.errors}\n${a.output.slice(-1500)}`).toBe(0);
          expect(b.code, `${b.errors}\n${b.output.slice(-1500)}`).toBe(0);
          return { a, b };
        },
      };
    },
    async stop() {
      await Promise.all(processes.map((x) => x.stop(5000)));
      await Promise.all([drachtio.stop(), freeswitch?.stop()]);
      await redis.stop();
      for (const r of results) cleanupSipp(r);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return site;
}
