// Extension calls (FreeSWITCH through drachtio-fsmrf) when one xline process is connected to two
// drachtio-servers (DRACHTIO_SERVERS): each server's SIP app has its own media link, and with a
// fixed MEDIA_LISTEN_PORT the second one listens on MEDIA_LISTEN_PORT + 1. An AXN-extension call
// (SIP INFO digits) through each server must reach the bound A, From = X, bridged, with a CDR.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/store/embedded-redis.js';
import { mobile, startRedisSide, waitFor, type RedisSide } from './harness.js';
import { bindExtension, canRunMedia, expectCallerOk, placeMediaCall, received, type MediaStack } from '../media/harness.js';
import { freeUdpTcpPort, startDrachtio, type DrachtioServer } from '../support/drachtio.js';
import { startFreeSwitch, type FreeSwitch } from '../support/freeswitch.js';
import { uriUser } from '../support/sipp.js';
import { sipProcessEnv } from '../support/sip-process.js';
import { startXlineProcess, type XlineProcess } from '../support/xline-process.js';

const POOL = 'scale-out-media';

describe.skipIf(!canRunMedia)('scale-out: extension calls with one xline on two drachtio-servers', { timeout: 40_000 }, () => {
  let side: RedisSide;
  let fs: FreeSwitch;
  let d1: DrachtioServer;
  let d2: DrachtioServer;
  let x: XlineProcess;
  let dir: string;
  let farEndPort: number;
  let mediaPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xline-scale-out-media-'));
    side = await startRedisSide();
    [fs, d1, d2] = await Promise.all([startFreeSwitch(), startDrachtio(), startDrachtio()]);
    farEndPort = await freeUdpTcpPort();
    mediaPort = await twoFreeTcpPorts();
    x = await startXlineProcess('xm', {
      ...(await sipProcessEnv({ redisUrl: side.child.url, drachtio: [d1, d2], freeswitch: fs, farEndPort, dir })),
      MEDIA_LISTEN_PORT: String(mediaPort),
      SIP_RING_TIMEOUT: '10',
    });
    // Both media links up: one per drachtio-server, both on the same FreeSWITCH.
    await waitFor(() => x.lines.filter((l) => l.msg === 'MediaLink: connected to FreeSWITCH').length === 2, 60_000, 'two media links').catch((e: Error) => {
      throw new Error(`${e.message}\n${x.output().slice(-3000)}`);
    });
    await waitFor(() => x.lines.filter((l) => l.msg === 'connected to drachtio-server').length === 2, 20_000, 'both drachtio-servers');
  }, 120_000);

  afterAll(async () => {
    await x?.stop(5000);
    await Promise.all([d1?.stop(), d2?.stop(), fs?.stop()]);
    await side?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('each media link listens on its own port (MEDIA_LISTEN_PORT, + 1) and /v1/health shows both up', async () => {
    const h = await x.health();
    expect(h).toMatchObject({
      sip: 'up',
      media: 'up',
      drachtio: [
        { server: `127.0.0.1:${d1.adminPort}`, sip: 'up', media: 'up' },
        { server: `127.0.0.1:${d2.adminPort}`, sip: 'up', media: 'up' },
      ],
    });
    for (const port of [mediaPort, mediaPort + 1]) expect(await tcpPortFree(port), `nothing listens on ${port}`).toBe(false);
  });

  for (const which of ['first', 'second'] as const) {
    it(`AXN extension by SIP INFO through the ${which} drachtio-server: prompt, B leg From = X to A, bridged, CDR`, async () => {
      const xNo = mobile('177');
      const a = mobile('138');
      await bindExtension(side, { poolKey: POOL, x: xNo, a, extension: '2468' });
      const d = which === 'first' ? d1 : d2;
      const stack = { dir, farEndPort, drachtio: d } as unknown as MediaStack;
      // Once B answers and nothing needs FreeSWITCH any more, xline hands the media to the two
      // parties by re-INVITE (both scripts expect and answer it), as in test/media.
      const callerScript = { info: '2468', infoAfterMs: 500, hangUpAfterMs: 1500, reinvite: true };
      const farEndScript = { ringMs: 200, reinvite: true };
      const run = await placeMediaCall(stack, {
        caller: mobile('139'),
        x: xNo,
        target: a,
        script: callerScript,
        farEnd: farEndScript,
        timeoutSec: 25,
      });
      expectCallerOk(run);
      const inv = received(run.b, (m) => m.method === 'INVITE');
      expect(inv, 'far end got no INVITE').toBeDefined();
      expect(uriUser(inv!.uri)).toBe(a);
      expect(uriUser(inv!.header('from'))).toBe(xNo);
      let cdr: Awaited<ReturnType<typeof side.pipeline.store.getCdr>>;
      const deadline = Date.now() + 8000;
      while (!(cdr = await side.pipeline.store.getCdr(run.callId)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(cdr, 'CDR').toBeDefined();
      expect(cdr!.start_time, 'B answered and was bridged').toBeDefined();
      expect(cdr!).toMatchObject({ secret_no: xNo, release_dir: 1 });
    });
  }
});

async function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/** A port p with p and p + 1 free (TCP). */
async function twoFreeTcpPorts(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p < 65535 && (await tcpPortFree(p + 1))) return p;
  }
  throw new Error('no two consecutive free TCP ports');
}
