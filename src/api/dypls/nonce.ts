// SignatureNonce replay protection. The store's Redis (SET NX EX) makes it hold across every
// xline instance; the in-process fallback below holds within one instance only and is used only
// by a store without claimNonce.
import type { BindingStore } from '../../store/types.js';

/** Longer than any accepted Timestamp stays valid (±15 min window → 30 min), plus a margin. */
export const NONCE_TTL_SECONDS = 31 * 60;

export type NonceClaimer = (key: string) => Promise<boolean>;

export function nonceClaimer(store: BindingStore): NonceClaimer {
  if (store.claimNonce) {
    const claim = store.claimNonce.bind(store);
    return (key) => claim(key, NONCE_TTL_SECONDS);
  }
  const seen = new Map<string, number>();
  let lastPurge = Date.now();
  return async (key) => {
    const now = Date.now();
    if (now - lastPurge > 60_000) {
      for (const [k, exp] of seen) if (exp <= now) seen.delete(k);
      lastPurge = now;
    }
    const exp = seen.get(key);
    if (exp !== undefined && exp > now) return false;
    seen.set(key, now + NONCE_TTL_SECONDS * 1000);
    return true;
  };
}
