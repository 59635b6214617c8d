// Whatever goes wrong, the answer is in the documented format of the API that was called: never
// fastify's default error body, never a bare 500.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAction, type ActionFactory } from '../../src/api/dypls/action.js';
import { hasRedis } from '../support/redis.js';
import { ops, rpc, startHarness, type Harness } from './api-harness.js';

// Test-only action and ops route that fail with a programming error.
const broken: ActionFactory = () =>
  defineAction({
    name: 'BrokenForTest',
    schema: z.object({}),
    run: async () => {
      throw new TypeError('boom');
    },
  });
const brokenOps = async (app: import('fastify').FastifyInstance) => {
  app.get('/broken-for-test', async () => {
    throw new TypeError('boom');
  });
};

function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('error', () => resolve(out));
    s.on('close', () => resolve(out));
    s.setTimeout(5000, () => reject(new Error('no answer')));
    s.write(request);
  });
}

describe.skipIf(!hasRedis)('admin API error formats', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startHarness({}, { actions: [broken], opsPlugins: [brokenOps] });
    const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
    port = Number(new URL(url).port);
  });
  afterAll(async () => h?.stop());

  it('an action that throws unexpectedly answers isp.SYSTEM_ERROR (HTTP 200), not a 500', async () => {
    const r = await rpc(h.app, 'BrokenForTest', {});
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ Code: 'isp.SYSTEM_ERROR', Message: expect.any(String), RequestId: expect.any(String) });
    expect(r.body.Message).not.toContain('boom');
  });

  it('an ops route that throws unexpectedly answers 503 isp.SYSTEM_ERROR in the ops format', async () => {
    const r = await ops(h.app, 'GET', '/v1/broken-for-test');
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ error: { code: 'isp.SYSTEM_ERROR', message: expect.any(String) } });
  });

  it('malformed HTTP gets a JSON answer in both formats', async () => {
    const res = await rawHttp(port, 'GARBAGE / HTTP/1.1\r\n\r\n');
    expect(res).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({ Code: 'InvalidParameter', error: { code: 'INVALID_REQUEST' } });
  });

  it('an oversize request line gets 431 in the same JSON', async () => {
    const res = await rawHttp(port, `GET /?Action=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(res).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4))).toMatchObject({ Code: 'InvalidParameter' });
  });
});
