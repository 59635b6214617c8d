import { describe, expect, it } from 'vitest';
import { NONCE_TTL_SECONDS, nonceClaimer } from '../../src/api/dypls/nonce.js';
import type { BindingStore } from '../../src/store/types.js';

describe('nonce claimer', () => {
  it('keeps nonces longer than any accepted Timestamp stays valid (±15 min)', () => {
    expect(NONCE_TTL_SECONDS).toBeGreaterThanOrEqual(30 * 60);
  });

  it("uses the store's claimNonce with that TTL", async () => {
    const calls: Array<[string, number]> = [];
    const store = { claimNonce: async (k: string, ttl: number) => (calls.push([k, ttl]), calls.length === 1) } as unknown as BindingStore;
    const claim = nonceClaimer(store);
    expect(await claim('a')).toBe(true);
    expect(await claim('a')).toBe(false);
    expect(calls).toEqual([
      ['a', NONCE_TTL_SECONDS],
      ['a', NONCE_TTL_SECONDS],
    ]);
  });

  it('falls back to an in-process set for a store without claimNonce', async () => {
    const claim = nonceClaimer({} as BindingStore);
    expect(await claim('k1')).toBe(true);
    expect(await claim('k1')).toBe(false);
    expect(await claim('k2')).toBe(true);
  });
});
