// Pool-level RingConfig defaults (a pool's ring tones for bindings that name none), read from the
// store and kept for a short while: a bridge's media choice (domain/bridge-media.ts) needs them
// on the INVITE path, where a store read per call would cost a round trip.
import type { RingConfig } from '../domain/binding.js';
import type { Logger } from '../log.js';
import type { BindingStore } from './types.js';

/** Pool-level RingConfig defaults, read from the store and kept for a short while. */
export class PoolRingDefaults {
  private readonly cache = new Map<string, { at: number; rc?: RingConfig; pending?: Promise<void> }>();

  constructor(
    private readonly store: Pick<BindingStore, 'listPools' | 'getPool'>,
    private readonly log: Logger,
    private readonly ttlMs = 30_000,
  ) {}

  /** Reads every pool's defaults: a bridge's media choice must know them before the first call. */
  async refreshAll(): Promise<void> {
    try {
      const keys = await this.store.listPools();
      await Promise.all(keys.map((k) => this.refresh(k)));
    } catch (err) {
      this.log.warn({ err: String(err) }, 'media: pool list not readable');
    }
  }

  /** What is known now without I/O, or undefined when the pool was never read. */
  known(poolKey: string): { rc?: RingConfig } | undefined {
    const e = this.cache.get(poolKey);
    if (!e || e.at === 0) return undefined;
    if (Date.now() - e.at > this.ttlMs) void this.refresh(poolKey);
    return e;
  }

  async get(poolKey: string): Promise<RingConfig | undefined> {
    const e = this.cache.get(poolKey);
    if (e && Date.now() - e.at <= this.ttlMs) return e.rc;
    await this.refresh(poolKey);
    return this.cache.get(poolKey)?.rc;
  }

  private refresh(poolKey: string): Promise<void> {
    const e = this.cache.get(poolKey);
    if (e?.pending) return e.pending;
    const pending = this.store
      .getPool(poolKey)
      .then((p) => {
        this.cache.set(poolKey, { at: Date.now(), ...(p?.ringConfig ? { rc: p.ringConfig } : {}) });
      })
      .catch((err: unknown) => {
        // Keep the last known value; ring tones must not fail a call.
        this.log.warn({ err: String(err), poolKey }, 'media: pool ring defaults not readable');
        const old = this.cache.get(poolKey);
        if (old) delete old.pending;
      });
    this.cache.set(poolKey, { at: e?.at ?? 0, ...(e?.rc ? { rc: e.rc } : {}), pending });
    return pending;
  }
}
