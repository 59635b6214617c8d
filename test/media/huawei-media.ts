// Huawei bindings on the media stack (harness.ts): the admin API on the stack's store and ring-tone
// directory, a Huawei app per mode, tones uploaded with PUT /v1/ring-tones/{id}, and the Huawei
// client a customer would use to bind. What the client binds, calls through drachtio-server see.
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { buildAdminApp } from '../../src/api/server.js';
import { loadConfig } from '../../src/config.js';
import { nullEventSink } from '../../src/events/types.js';
import { createLogger } from '../../src/log.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { HuaweiClient } from '../support/huawei-client.js';
import { dominantHz, rms } from './rtp-peer.js';
import type { MediaStack } from './harness.js';

const OPS = 'huawei-media-ops';

export interface HuaweiAdmin {
  admin: FastifyInstance;
  /** A Huawei app of `mode` on `poolKey` (the pool is made), and its client. */
  app(appKey: string, mode: 'AXB' | 'AX' | 'AXE', poolKey: string): Promise<HuaweiClient>;
  /** PUT /v1/ring-tones/{id} with a wav. */
  uploadTone(id: string, wav: Buffer): Promise<void>;
  close(): Promise<void>;
}

export async function startHuaweiAdmin(s: MediaStack): Promise<HuaweiAdmin> {
  const config = loadConfig({ OPS_TOKEN: OPS, LOG_LEVEL: 'silent', RING_TONE_DIR: s.config.RING_TONE_DIR, RECORDING_DIR: s.config.RECORDING_DIR });
  const admin = await buildAdminApp({ config, log: createLogger('silent'), store: s.side.store, events: nullEventSink, metrics: createMetricsRegistry(), health: { sip: true, media: true } });
  const base = await admin.listen({ host: '127.0.0.1', port: 0 });
  const ops = async (method: 'PUT', url: string, payload: unknown, contentType = 'application/json') => {
    const r = await admin.inject({ method, url, headers: { authorization: `Bearer ${OPS}`, 'content-type': contentType }, payload: payload as string });
    expect(r.statusCode, `${method} ${url}: ${r.body}`).toBeLessThan(300);
  };
  return {
    admin,
    async app(appKey, mode, poolKey) {
      await ops('PUT', `/v1/pools/${poolKey}`, { name: poolKey, strictCity: false });
      const appSecret = `secret-of-${appKey}-0123456789`;
      await ops('PUT', `/v1/huawei/apps/${appKey}`, { appSecret, mode, poolKey });
      return new HuaweiClient({ baseUrl: base, appKey, appSecret });
    },
    uploadTone: (id, wav) => ops('PUT', `/v1/ring-tones/${id}`, wav, 'audio/wav'),
    close: () => admin.close(),
  };
}

/** A 200 answer with resultcode "0" (else the test fails showing the answer). */
export function ok<T extends { status: number; body: Record<string, any> }>(r: T): T['body'] {
  expect([r.status, r.body.resultcode], JSON.stringify(r.body)).toEqual([200, '0']);
  return r.body;
}

/** Frames (20 ms PCMU) in 100 ms steps: the dominant frequency of each voiced step, 0 for silence. */
export function hzSteps(frames: Buffer[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 5 <= frames.length; i += 5) {
    const step = frames.slice(i, i + 5);
    out.push(rms(step) > 300 ? dominantHz(step) : 0);
  }
  return out;
}

/** How many of `steps` are within `tol` Hz of `hz`. */
export const stepsNear = (steps: number[], hz: number, tol = 40) => steps.filter((s) => Math.abs(s - hz) < tol).length;
