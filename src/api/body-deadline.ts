// Slow clients must not hold the admin listener. Node's own timers bound the headers
// (headersTimeout) and, as a backstop, the whole request (requestTimeout); this bounds the body,
// per route: a request whose headers are complete but whose body never finishes is answered 408
// and its connection closed. Ring-tone uploads (up to 10 MB) get a longer deadline than the small
// API bodies.
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How long this route waits for a request body once the headers are in (default: the app's). */
    bodyTimeoutMs?: number;
  }
}

export function bodyTimeoutError(ms: number): Error & { statusCode: number; code: string } {
  return Object.assign(new Error(`the request body was not received within ${ms / 1000} s`), { statusCode: 408, code: 'XLINE_BODY_TIMEOUT' });
}

/**
 * A preParsing hook: a timer that, at the deadline, fails the reading of a body not yet complete
 * with 408. Callback style, not async, and no stream of its own (a PassThrough per POST cost the
 * Huawei bind about a tenth of its CPU): the body is read from the request itself.
 */
export function bodyDeadline(defaultMs: number) {
  return (req: FastifyRequest, reply: FastifyReply, payload: Readable, done: (err: Error | null, payload: Readable) => void): void => {
    const h = req.headers;
    // Bodiless requests (every GET) pass untouched: nothing to wait for.
    if (h['transfer-encoding'] === undefined && !(Number(h['content-length']) > 0)) return done(null, payload);
    const ms = req.routeOptions.config?.bodyTimeoutMs ?? defaultMs;
    const timer = setTimeout(() => {
      reply.raw.off('close', settled);
      if ((payload as Readable & { complete?: boolean }).complete || payload.readableEnded || payload.destroyed) return;
      // The rest of the body will never be read: the connection cannot carry another request.
      payload.pause();
      reply.header('connection', 'close');
      // Only a reader (fastify's body parser) hears it: a route may answer without reading the
      // body, and an unheard 'error' would be an uncaught exception that ends the process.
      if (payload.listenerCount('error') > 0) payload.emit('error', bodyTimeoutError(ms));
    }, ms);
    // the response ends the wait (the body is complete by then, or no longer wanted)
    const settled = () => clearTimeout(timer);
    reply.raw.once('close', settled);
    done(null, payload);
  };
}
