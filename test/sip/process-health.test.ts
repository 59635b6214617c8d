// /v1/health of a real xline process (src/main.ts) following real drachtio-server and FreeSWITCH
// processes as they go away and come back: nothing is set by hand, the flags come from xline's own
// connections (drachtio-srf's socket, the FreeSWITCH event socket).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drachtioBin, type DrachtioServer } from '../support/drachtio.js';
import { freeswitchBin, type FreeSwitch } from '../support/freeswitch.js';
import { hasRedis } from '../support/redis.js';
import { startSipSite, type SipSite } from '../support/sip-process.js';
import type { XlineProcess } from '../support/xline-process.js';
import { eventually } from '../support/xline-http.js';

describe.skipIf(!(drachtioBin && freeswitchBin && hasRedis))('/v1/health follows real drachtio-server and FreeSWITCH', { timeout: 90_000 }, () => {
  let site: SipSite;
  let d: DrachtioServer;
  let fs: FreeSwitch;
  let x: XlineProcess;

  beforeAll(async () => {
    site = await startSipSite('health', { freeswitch: true });
    d = site.drachtio;
    fs = site.freeswitch!;
    x = await site.startXline('health', await site.env());
  }, 120_000);

  afterAll(async () => {
    await site?.stop();
  });

  /** The health body once `pred` holds (polled over HTTP, as a load balancer would). */
  const healthWhen = (pred: (h: Record<string, unknown>) => boolean, what: string, ms = 30_000) =>
    eventually(
      async () => {
        const h = await x.health();
        return pred(h) ? h : undefined;
      },
      ms,
      what,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${x.output().slice(-3000)}`);
    });
  const server0 = () => `127.0.0.1:${d.adminPort}`;

  it('sip and media up with both running', async () => {
    const h = await healthWhen((h) => h.sip === 'up' && h.media === 'up', 'sip and media up', 60_000);
    expect(h).toEqual({ status: 'ok', redis: 'up', sip: 'up', media: 'up', drachtio: [{ server: server0(), sip: 'up', media: 'up' }] });
  });

  it('drachtio-server stopped: sip down (HTTP 200 while Redis answers); started again: sip up', async () => {
    await d.stop();
    const down = await healthWhen((h) => h.sip === 'down', 'sip down');
    expect(down).toMatchObject({ status: 'degraded', redis: 'up', sip: 'down', drachtio: [{ server: server0(), sip: 'down' }] });
    expect((await fetch(`http://127.0.0.1:${x.adminPort}/v1/health`)).status).toBe(200);
    await d.restart(); // same ports
    const up = await healthWhen((h) => h.sip === 'up' && h.media === 'up', 'sip up again');
    expect(up).toEqual({ status: 'ok', redis: 'up', sip: 'up', media: 'up', drachtio: [{ server: server0(), sip: 'up', media: 'up' }] });
  });

  it('FreeSWITCH killed: media down; started again: media up', async () => {
    await fs.kill(); // SIGKILL: a crash, not a polite stop
    const down = await healthWhen((h) => h.media === 'down', 'media down');
    expect(down).toMatchObject({ status: 'degraded', redis: 'up', sip: 'up', media: 'down', drachtio: [{ server: server0(), sip: 'up', media: 'down' }] });
    await fs.start(); // same ports
    const up = await healthWhen((h) => h.media === 'up', 'media up again');
    expect(up).toEqual({ status: 'ok', redis: 'up', sip: 'up', media: 'up', drachtio: [{ server: server0(), sip: 'up', media: 'up' }] });
  });
});
