// The body deadline: a 408 error for whoever reads the body, and no uncaught exception when a
// route answered without reading it.
import { EventEmitter } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bodyDeadline } from '../../src/api/body-deadline.js';

function run(ms: number): { out: Readable; payload: PassThrough; reply: { raw: EventEmitter; headers: Record<string, string> } } {
  const payload = new PassThrough();
  const reply = { raw: new EventEmitter(), headers: {} as Record<string, string>, header(k: string, v: string) { this.headers[k] = v; return this; } };
  const req = { headers: { 'content-length': '100' }, routeOptions: { config: {} } };
  let out: Readable | undefined;
  bodyDeadline(ms)(req as unknown as FastifyRequest, reply as unknown as FastifyReply, payload, (_err, p) => (out = p));
  payload.write('0123456789'); // 10 of the 100 bytes announced, then nothing
  return { out: out!, payload, reply };
}

describe('bodyDeadline', () => {
  it('a body complete by the deadline (the route still running) is left alone', async () => {
    const { out, payload, reply } = run(30);
    const errors: unknown[] = [];
    out.on('error', (e) => errors.push(e));
    out.resume();
    payload.end('rest of it');
    await new Promise((r) => setTimeout(r, 80));
    expect(errors).toEqual([]);
    expect(reply.headers.connection).toBeUndefined();
  });

  it('a reader of a body that stalls gets a 408 error at the deadline', async () => {
    const { out, reply } = run(50);
    const err = await new Promise<Error & { statusCode?: number }>((resolve) => {
      out.on('error', resolve);
      out.resume();
    });
    expect(err.statusCode).toBe(408);
    expect(reply.headers.connection).toBe('close');
  });

  it('a body nobody reads (the route answered first) ends without an uncaught error', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const { out, reply } = run(30);
      await new Promise((r) => setTimeout(r, 120));
      // the deadline passed (the connection is marked to close) and nobody heard an error
      expect(reply.headers.connection).toBe('close');
      expect(out.listenerCount('error')).toBe(0);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });

  it('the response closing first ends the wait: the stream is left alone', async () => {
    const { out, reply } = run(30);
    const errors: unknown[] = [];
    out.on('error', (e) => errors.push(e));
    reply.raw.emit('close');
    await new Promise((r) => setTimeout(r, 80));
    expect(errors).toEqual([]);
    expect(reply.headers.connection).toBeUndefined();
    expect(out.destroyed).toBe(false);
  });
});
