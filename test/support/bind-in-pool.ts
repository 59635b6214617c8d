// A binding made the way most SIP, media and phone tests need one, written once: its pool
// created (or its settings set again: a test may have restarted redis-server empty), its X added
// to the pool, valid for an hour, no recording, X shown to the called party, unless `req` says
// otherwise (fields left undefined keep these defaults).
import type { Binding } from '../../src/domain/binding.js';
import type { BindingStore, BindRequest, PoolSettings } from '../../src/store/types.js';

export type BindInPool = Partial<Omit<BindRequest, 'poolKey'>> & Pick<BindRequest, 'mode' | 'a'> & { x: string };

export async function bindInPool(store: BindingStore, poolKey: string, req: BindInPool, pool: Partial<PoolSettings> = {}): Promise<Binding> {
  await store.upsertPool(poolKey, { strictCity: false, ...pool, name: pool.name ?? poolKey });
  await store.addNumbers(poolKey, [{ number: req.x, city: '杭州' }]);
  const given = Object.fromEntries(Object.entries(req).filter(([, v]) => v !== undefined)) as BindInPool;
  return store.bind({ poolKey, expiresAt: Math.floor(Date.now() / 1000) + 3600, recording: false, callDisplayType: 1, ...given });
}
