// SignatureNonce replay protection. The store's Redis (SET NX EX) makes it hold across every
// xline instance; the in-process fallback below holds within one instance only and is used only
// by a store without claimNonce.
import type { Deadline } from '../../store/deadline.js';
import type { BindingStore } from '../../store/types.js';

/**
 * The longest a nonce is kept: as long as any accepted Timestamp stays valid (±15 min window →
 * 30 min), plus a margin. The gateway keeps each one only until its own Timestamp leaves the
 * window (≈ 16 min for a client with a right clock).
 */
export const NONCE_TTL_SECONDS = 31 * 60;

/** With a deadline, a claim that reaches Redis after it claims nothing (and fails as the request does). */
export type NonceClaimer = (key: string, ttlSeconds?: number, deadline?: Deadline) => Promise<boolean>;

export function nonceClaimer(store: BindingStore): NonceClaimer {
  if (store.claimNonce) {
    const claim = store.claimNonce.bind(store);
    return (key, ttl = NONCE_TTL_SECONDS, deadline) => claim(key, ttl, deadline ? { deadline } : undefined);
  }
  const seen = new Map<string, number>();
  let lastPurge = Date.now();
  return async (key, ttl = NONCE_TTL_SECONDS) => {
    const now = Date.now();
    if (now - lastPurge > 60_000) {
      for (const [k, exp] of seen) if (exp <= now) seen.delete(k);
      lastPurge = now;
    }
    const exp = seen.get(key);
    if (exp !== undefined && exp > now) return false;
    seen.set(key, now + ttl * 1000);
    return true;
  };
}
