import { describe, expect, it, vi } from 'vitest';
import { NONCE_TTL_SECONDS, nonceClaimer } from '../../src/api/dypls/nonce.js';
import type { BindingStore } from '../../src/store/types.js';

describe('nonce claimer', () => {
  it('keeps a nonce for as long as any accepted Timestamp stays valid (±15 min), then lets it go', async () => {
    // A request signed 15 min in the future is accepted until 15 min past it: 30 min in all.
    vi.useFakeTimers({ now: 1_800_000_000_000 });
    try {
      const claim = nonceClaimer({} as BindingStore);
      expect(await claim('n')).toBe(true);
      vi.setSystemTime(Date.now() + 30 * 60_000);
      expect(await claim('n'), 'replayed 30 min later').toBe(false);
      vi.setSystemTime(Date.now() + 2 * 60_000);
      expect(await claim('n'), 'past the longest window').toBe(true);
    } finally {
      vi.useRealTimers();
    }
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
