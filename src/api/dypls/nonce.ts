// SignatureNonce replay protection: claimed in the store's Redis (SET NX EX), so it holds across
// every xline instance.
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
  return (key, ttl = NONCE_TTL_SECONDS, deadline) => store.claimNonce(key, ttl, deadline ? { deadline } : undefined);
}
