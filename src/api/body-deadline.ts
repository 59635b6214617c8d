// Slow clients must not hold the admin listener. Node's own timers bound the headers
// (headersTimeout) and, as a backstop, the whole request (requestTimeout); this bounds the body,
// per route: a request whose headers are complete but whose body never finishes is answered 408
// and its connection closed. Ring-tone uploads (up to 10 MB) get a longer deadline than the small
// API bodies.
import { PassThrough, type Readable } from 'node:stream';
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
 * A preParsing hook: the body is read through a stream that fails with 408 at the deadline.
 * Callback style, not async: every request runs it, and a promise per request costs more.
 */
export function bodyDeadline(defaultMs: number) {
  return (req: FastifyRequest, reply: FastifyReply, payload: Readable, done: (err: Error | null, payload: Readable) => void): void => {
    const h = req.headers;
    // Bodiless requests (every GET) pass untouched: nothing to wait for.
    if (h['transfer-encoding'] === undefined && !(Number(h['content-length']) > 0)) return done(null, payload);
    const ms = req.routeOptions.config?.bodyTimeoutMs ?? defaultMs;
    const out = new PassThrough();
    // A route may answer without reading the body (a refusal before parsing): nobody listens on
    // `out` then, and an unheard 'error' would be an uncaught exception that ends the process.
    out.on('error', () => {});
    const timer = setTimeout(() => {
      payload.unpipe(out);
      // The rest of the body will never be read: the connection cannot carry another request.
      reply.header('connection', 'close');
      out.destroy(bodyTimeoutError(ms));
    }, ms);
    const settled = () => clearTimeout(timer);
    payload.once('end', settled);
    payload.once('close', settled);
    reply.raw.once('close', settled);
    payload.pipe(out);
    done(null, out);
  };
}
