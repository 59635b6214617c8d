// Console sessions, kept in Redis so that every xline instance honours them and signing out ends
// them everywhere at once. The cookie carries a random id; Redis holds only its SHA-256 (a dump of
// Redis does not hand out live sessions), the CSRF token and the expiry.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

export const SESSION_COOKIE = 'xline_console';
const KEY = (hash: string) => `xline:console:session:${hash}`;
const FAIL_KEY = (who: string) => `xline:console:signin-failures:${who}`;

/** Failed sign-ins allowed per client address per window, then 429 until the window ends. */
export const SIGNIN_FAILURES_ALLOWED = 5;
export const SIGNIN_WINDOW_SEC = 60;

export interface Session {
  /** Short, non-secret name of the session for logs ("who"): a prefix of the id's hash. */
  label: string;
  csrf: string;
  /** Unix ms. */
  expiresAt: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

export class ConsoleSessions {
  constructor(
    private readonly redis: Redis | Cluster,
    readonly ttlSec: number,
  ) {}

  async create(): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const hash = sha256(id);
    const session: Session = { label: `console:${hash.slice(0, 8)}`, csrf: randomBytes(24).toString('base64url'), expiresAt: Date.now() + this.ttlSec * 1000 };
    await this.redis
      .multi()
      .hset(KEY(hash), { csrf: session.csrf, exp: String(session.expiresAt), label: session.label })
      .expire(KEY(hash), this.ttlSec)
      .exec();
    return { id, session };
  }

  async get(id: string | undefined): Promise<Session | undefined> {
    if (!id || id.length > 100) return undefined;
    const h = await this.redis.hgetall(KEY(sha256(id)));
    if (!h?.csrf || !h.exp || Number(h.exp) <= Date.now()) return undefined;
    return { label: h.label ?? 'console', csrf: h.csrf, expiresAt: Number(h.exp) };
  }

  async destroy(id: string | undefined): Promise<void> {
    if (id && id.length <= 100) await this.redis.del(KEY(sha256(id)));
  }

  /** Seconds the client must wait before trying again, or 0 when it may try. */
  async blockedFor(who: string): Promise<number> {
    const n = Number(await this.redis.get(FAIL_KEY(who)));
    if (n < SIGNIN_FAILURES_ALLOWED) return 0;
    return Math.max(1, await this.redis.ttl(FAIL_KEY(who)));
  }

  async failed(who: string): Promise<void> {
    // the window starts at the first failure (SET NX), in one transaction with the count
    const r = await this.redis.multi().set(FAIL_KEY(who), '0', 'EX', SIGNIN_WINDOW_SEC, 'NX').incr(FAIL_KEY(who)).exec();
    if (!r) throw new Error('sign-in failure not recorded');
  }
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
