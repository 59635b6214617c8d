// The INVITE middleware chain (jambonz lib/middleware.js shape): each step either refuses the
// call — final response with `Reason: Q.850;cause=N` — and stops, or enriches req.locals and
// calls next(). Order: trunk allow-list → call session → caller → X → one lookup + decide().
import type Srf from 'drachtio-srf';
import type { CountryCode } from 'libphonenumber-js';
// National-form CN mobiles skip libphonenumber's full parse (same metadata, same verdict).
import { canonicalNumberFast as canonicalNumber } from '../domain/fast-number.js';
import type { Decision } from '../domain/route.js';
import { Q850 } from '../domain/route.js';
import type { Logger } from '../log.js';
import { StorageUnavailableError } from '../store/deadline.js';
import type { AddressList } from './cidr.js';
import { CallSession, type SessionEnv } from './call-session.js';
import type { SipMetrics } from './metrics.js';
import { reasonHeader } from './q850.js';

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;
type Next = (err?: unknown) => void;
export type Step = (req: Req, res: Res, next: Next) => void;

/** What the chain has learnt so far (req.locals). */
export interface InviteLocals {
  session?: CallSession;
  decision?: Decision;
}

export function locals(req: Req): InviteLocals {
  return req.locals as InviteLocals;
}

/**
 * A step that throws (a header it cannot parse, a bug) ends the call here with 500 and its CDR,
 * instead of drachtio-srf's default 500 that would leave the session live forever.
 */
export function guarded(step: Step, log: Logger): Step {
  return (req, res, next) => {
    try {
      step(req, res, next);
    } catch (err) {
      const session = (req.locals as InviteLocals | undefined)?.session;
      log.error({ err, callId: req.get('Call-ID') }, 'INVITE step failed');
      if (session) void session.end({ dir: 0, cause: Q850.TEMPORARY_FAILURE, status: 500, outcome: 'error' });
      else if (!res.finalResponseSent) res.send(500);
    }
  };
}

/** Source address outside SIP_TRUNK_CIDRS → 403 cause 21, before any other work (no CDR: perimeter). */
export function trunkAllowList(allowed: AddressList, metrics: SipMetrics, log: Logger): Step {
  return (req, res, next) => {
    req.locals = {};
    if (allowed.has(req.source_address)) return next();
    metrics.calls.inc({ outcome: 'untrusted' });
    log.warn({ source: req.source_address, callId: req.get('Call-ID') }, 'INVITE from outside SIP_TRUNK_CIDRS refused');
    res.send(403, undefined, { headers: { Reason: reasonHeader(Q850.CALL_REJECTED, 'source not allowed') } });
  };
}

/** Opens the call's session (live-call registry, CDR); while draining refuses 503 cause 41. */
export function openSession(env: SessionEnv, draining: () => boolean): Step {
  return (req, res, next) => {
    const session = new CallSession(env, req, res);
    locals(req).session = session;
    session.rawX = rawUser(req.uri) ?? '';
    if (draining()) {
      void session.refuse(503, Q850.TEMPORARY_FAILURE, 'unavailable', 'shutting down');
      return;
    }
    next();
  };
}

/** Caller = P-Asserted-Identity from a trusted trunk, else the From user (DESIGN §5). */
export function identifyCaller(trustedPai: AddressList, home: CountryCode): Step {
  return (req, _res, next) => {
    let user: string | undefined;
    if (trustedPai.has(req.source_address) && req.has('P-Asserted-Identity')) {
      for (const uri of headerUris(req.get('P-Asserted-Identity'))) {
        const u = rawUser(uri);
        if (u && canonicalNumber(u, home)) {
          user = u;
          break;
        }
      }
    }
    user ??= rawUser(req.getParsedHeader('From')?.uri ?? '');
    const caller = (user && canonicalNumber(user, home)) || sanitize(user) || 'anonymous';
    locals(req).session!.caller = caller;
    next();
  };
}

/** X = the Request-URI user in any common form; not a number → 404 cause 1. */
export function identifyX(home: CountryCode): Step {
  return (req, _res, next) => {
    const session = locals(req).session!;
    const x = session.rawX ? canonicalNumber(session.rawX, home) : undefined;
    if (!x) {
      session.x = sanitize(session.rawX) ?? '';
      void session.refuse(404, Q850.UNALLOCATED, 'no-binding', 'Request-URI user is not a number');
      return;
    }
    session.identify(session.caller, x);
    next();
  };
}

/** One store lookup and the pure decision; Redis failing or slow → 503 cause 41 at once. */
export function routeCall(route: SessionEnv['route']): Step {
  return (req, _res, next) => {
    const l = locals(req);
    const session = l.session!;
    route(session.caller, session.x).then(
      (decision) => {
        if (session.ended) return; // the caller canceled while we looked it up
        l.decision = decision;
        next();
      },
      (err: unknown) => {
        // Redis unavailable: the store's outage log has it (once, then summaries); anything else here
        if (!(err instanceof StorageUnavailableError)) session.log.warn({ err: String(err) }, 'binding lookup failed');
        void session.refuse(503, Q850.TEMPORARY_FAILURE, 'unavailable', 'binding store unavailable');
      },
    );
  };
}

/** `sip:+86 138-0000-0001;npdi@host` → `+86 138-0000-0001`; `tel:+8613800000001;x=y` → `+8613800000001`. */
export function rawUser(uri: string): string | undefined {
  const m = /^\s*<?\s*(?:sips?:([^@>]+)@|tel:([^;>?]+))/i.exec(uri);
  const user = (m?.[1] ?? m?.[2])?.split(/[;:]/)[0];
  if (!user) return undefined;
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/** URIs inside a header value: `"n" <sip:a@h>, <tel:+1>` → ['sip:a@h', 'tel:+1']. */
function headerUris(value: string): string[] {
  const bracketed = [...value.matchAll(/<([^>]+)>/g)].map((m) => m[1]!);
  return bracketed.length ? bracketed : value.split(',').map((s) => s.trim());
}

/** A non-number caller id kept for the CDR, short and printable. */
function sanitize(user: string | undefined): string | undefined {
  const s = user?.replace(/[^0-9A-Za-z+*#._-]/g, '').slice(0, 32);
  return s || undefined;
}
