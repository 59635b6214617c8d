// Bearer-token check for /v1 (OPS_TOKEN). With OPS_TOKEN unset every protected route is refused.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { opsError } from './errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function bearerCheck(token: string | undefined) {
  // Compare digests: constant time whatever the lengths.
  const want = token ? digest(token) : undefined;
  return async (req: FastifyRequest): Promise<void> => {
    if (!want) throw opsError.disabled();
    const h = req.headers.authorization;
    const m = h ? /^Bearer\s+(.+)$/i.exec(h) : null;
    if (!m || !timingSafeEqual(digest(m[1]!.trim()), want)) throw opsError.unauthorized();
  };
}
