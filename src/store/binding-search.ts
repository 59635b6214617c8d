// Read-only search over live bindings for the operator console (GET /v1/bindings): by X or SubsId
// directly, by A / B / OutId by reading the bindings of every X in every pool. The per-X keys are
// the truth (codec.ts); the pool indexes only say which X to read. A number or OutId search costs
// one HGETALL per X, bounded by MAX_SCAN_X: fine for a person at a console, not for an API client
// (which has QuerySubsId).
import type { Cluster, Redis } from 'ioredis';
import type { Binding, RingConfig } from '../domain/binding.js';
import { huaweiNamesTone } from '../domain/huawei-binding.js';
import { POOLS_KEY, parseSubsId, poolNumbersKey, unpackRecord, xKeys } from './codec.js';

/** Most X numbers one number/OutId search reads; beyond it the answer says `truncated`. */
export const MAX_SCAN_X = 50_000;
const CHUNK = 500;

export type SearchBy = 'x' | 'subsId' | 'a' | 'b' | 'number' | 'outId';

export interface SearchResult {
  items: Binding[];
  /** More X numbers exist than one search reads. */
  truncated: boolean;
}

export class BindingFinder {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /** Live bindings of one X (any pool), oldest first. */
  async onX(x: string): Promise<Binding[]> {
    const [meta, recs] = xKeys(x);
    const [pool, all] = await Promise.all([this.redis.hget(meta, 'p'), this.redis.hgetall(recs)]);
    if (!pool) return [];
    const t = this.now();
    const out: Binding[] = [];
    for (const [seq, raw] of Object.entries(all ?? {})) {
      try {
        const b = unpackRecord(raw, x, seq, pool);
        if (b.expiresAt > t) out.push(b);
      } catch {
        // a record this version cannot read: not shown
      }
    }
    return out.sort((p, q) => p.createdAt - q.createdAt || p.subsId.localeCompare(q.subsId));
  }

  async bySubsId(subsId: string): Promise<Binding | undefined> {
    const p = parseSubsId(subsId);
    if (!p) return undefined;
    return (await this.onX(p.x)).find((b) => b.subsId === subsId);
  }

  /** Every X of every pool (or of one pool), sorted; `truncated` past MAX_SCAN_X. */
  async allX(poolKey?: string): Promise<{ xs: string[]; truncated: boolean }> {
    const pools = poolKey ? [poolKey] : await this.redis.smembers(POOLS_KEY);
    const xs = new Set<string>();
    for (const p of pools) {
      for (const x of await this.redis.hkeys(poolNumbersKey(p))) xs.add(x);
      if (xs.size > MAX_SCAN_X) break;
    }
    const sorted = [...xs].sort();
    return { xs: sorted.slice(0, MAX_SCAN_X), truncated: sorted.length > MAX_SCAN_X };
  }

  /** Live bindings matching `pred`, reading every X (of one pool when given). */
  async scan(pred: (b: Binding) => boolean, opts: { poolKey?: string; limit?: number } = {}): Promise<SearchResult> {
    const { xs, truncated } = await this.allX(opts.poolKey);
    const limit = opts.limit ?? 200;
    const items: Binding[] = [];
    for (let i = 0; i < xs.length && items.length < limit; i += CHUNK) {
      const lists = await Promise.all(xs.slice(i, i + CHUNK).map((x) => this.onX(x)));
      for (const b of lists.flat()) if (pred(b) && items.length < limit) items.push(b);
    }
    return { items, truncated };
  }

  /** Where a ring tone is named: pools' defaults, live bindings' RingConfig and Huawei tones (preVoice, recordHintTone, lastMinVoice, callbackTone). */
  async ringToneUsers(id: string, poolRing: (poolKey: string) => Promise<RingConfig | undefined>): Promise<{ pools: string[]; bindings: string[] }> {
    const names = (rc: RingConfig | undefined) => Object.values(rc ?? {}).includes(id);
    const pools: string[] = [];
    for (const p of (await this.redis.smembers(POOLS_KEY)).sort()) if (names(await poolRing(p))) pools.push(p);
    const found = await this.scan((b) => names(b.ringConfig) || huaweiNamesTone(b.huawei, id), { limit: 20 });
    return { pools, bindings: found.items.map((b) => b.subsId) };
  }
}
