// Who may call /v1: a bearer token (scripts, curl) or a console session cookie. A request
// authenticated by the cookie that changes anything must also carry the session's CSRF token in
// X-CSRF-Token and, when the browser says where it comes from, come from this origin: a page on
// another site can make the browser send the cookie (SameSite=Strict already stops most of that),
// never read or forge the token.
import type { FastifyRequest } from 'fastify';
import { opsError, OpsError } from '../ops/errors.js';
import { cookieValue, sameSecret, SESSION_COOKIE, type ConsoleSessions, type Session } from './sessions.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const sessionOfRequest = new WeakMap<FastifyRequest, Session>();

/** Who made the request, for logs: the console session's label, or the ops token. */
export function whoOf(req: FastifyRequest): string {
  return sessionOfRequest.get(req)?.label ?? 'ops-token';
}

export const csrfRefused = (why: string) => new OpsError(403, 'CSRF_REFUSED', `request refused: ${why}`);

/** The request comes from this site: Origin (when sent) names this host, Sec-Fetch-Site is not cross-site. */
export function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return false;
    }
    const hosts = [req.headers.host, req.headers['x-forwarded-host']].filter((h): h is string => typeof h === 'string');
    if (!hosts.includes(host)) return false;
  }
  const site = req.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

export function checkCsrf(req: FastifyRequest, session: Session): void {
  if (SAFE_METHODS.has(req.method)) return;
  if (!sameOrigin(req)) throw csrfRefused('it comes from another site');
  const token = req.headers['x-csrf-token'];
  if (typeof token !== 'string' || !sameSecret(token, session.csrf)) throw csrfRefused('missing or wrong X-CSRF-Token');
}

/** The console session of a request, or undefined. */
export async function consoleSession(req: FastifyRequest, sessions: ConsoleSessions): Promise<Session | undefined> {
  return sessions.get(cookieValue(req.headers.cookie, SESSION_COOKIE));
}

/**
 * onRequest hook for /v1: `bearer` (the token check) when an Authorization header is present or
 * there is no console; otherwise a live console session, with the CSRF checks on writes.
 */
export function opsOrSession(bearer: (req: FastifyRequest) => Promise<void>, sessions: ConsoleSessions | undefined, opsEnabled: boolean) {
  return async (req: FastifyRequest): Promise<void> => {
    if (!sessions || req.headers.authorization !== undefined || cookieValue(req.headers.cookie, SESSION_COOKIE) === undefined) {
      return bearer(req);
    }
    if (!opsEnabled) throw opsError.disabled();
    const s = await consoleSession(req, sessions);
    if (!s) throw new OpsError(401, 'UNAUTHORIZED', 'the console session has ended; sign in again');
    checkCsrf(req, s);
    sessionOfRequest.set(req, s);
  };
}
