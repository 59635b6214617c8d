// Pools: their settings (pool:{P}), the list of pools, and each instance's cached copy of a pool's
// settings and numbers by city and area code, from which bind picks candidate X numbers. The pool
// index pn:{P} is a hint (codec.ts): getPool confirms every hinted X against x:{X}, so its counts
// are exact except for an X whose hint a crash removed (until reconcile, maintenance.ts).
import { xlineError } from '../domain/errors.js';
import { POOLS_KEY, SEP, poolKeyOf, poolNumbersKey } from './codec.js';
import { Deadline } from './deadline.js';
import { checkPoolKey, checkText } from './input-checks.js';
import type { ScriptRunner } from './script-runner.js';
import type { AreaMatch, PoolInfo, PoolSettings, StoreCallOptions } from './types.js';

/** A pool as one instance knows it: settings and numbers, for picking candidate X numbers. */
export interface PoolState {
  settings: PoolSettings;
  all: string[];
  byCity: Map<string, string[]>;
  /** Numbers added with an area code (Huawei areaCode), by area code. */
  byArea: Map<string, string[]>;
  loadedAt: number;
}

export class PoolStore {
  private readonly pools = new Map<string, PoolState>();
  private readonly loading = new Map<string, Promise<PoolState | undefined>>();

  constructor(
    private readonly run: ScriptRunner,
    /** How long one instance trusts its copy of a pool's settings and numbers (ms). */
    private readonly cacheMs: number,
  ) {}

  private get redis() {
    return this.run.redis;
  }

  async upsertPool(poolKey: string, settings: PoolSettings, opts: StoreCallOptions = {}): Promise<void> {
    checkPoolKey(poolKey);
    checkText('name', settings.name);
    const dl = opts.deadline ?? new Deadline(true);
    const ring = settings.ringConfig && Object.keys(settings.ringConfig).length ? JSON.stringify(settings.ringConfig) : '';
    await this.run.guard('upsertPool', async () => {
      // the settings in one guarded step; the pool list follows what landed
      await this.run.writeKey('pool', 'upsertPool', poolKeyOf(poolKey), dl, settings.name ?? '', settings.strictCity ? '1' : '0', ring);
      dl.landed++;
      await this.redis.sadd(POOLS_KEY, poolKey);
    });
    this.pools.delete(poolKey);
  }

  async getPool(poolKey: string, opts: StoreCallOptions = {}): Promise<PoolInfo | undefined> {
    const dl = opts.deadline;
    return this.run.guard('getPool', async () => {
      const settings = await this.readSettings(poolKey);
      if (!settings) return undefined;
      const hinted = await this.readPoolNumbers(poolKey, dl);
      const info: PoolInfo = { ...settings, poolKey, numbers: 0, numbersInUse: 0, bindings: 0, byCity: {} };
      // exact: every hinted X is confirmed against its own meta, in chunks (auto-pipelined)
      const xs = [...hinted.keys()];
      for (let i = 0; i < xs.length; i += 500) {
        const chunk = xs.slice(i, i + 500);
        const stats = await Promise.all(chunk.map((x) => this.run.perX('stat', x)));
        dl?.renew();
        stats.forEach(([pool, city, live, , area]) => {
          if (pool !== poolKey) return;
          info.numbers++;
          const c = String(city);
          info.byCity[c] = (info.byCity[c] ?? 0) + 1;
          if (area) {
            const by = (info.byAreaCode ??= {});
            by[String(area)] = (by[String(area)] ?? 0) + 1;
          }
          const n = Number(live);
          if (n > 0) info.numbersInUse++;
          info.bindings += n;
        });
      }
      return info;
    });
  }

  async listPools(): Promise<string[]> {
    return this.run.guard('listPools', async () => (await this.redis.smembers(POOLS_KEY)).sort());
  }

  /** The pool, or POOLKEY_NOT_EXISTS; `fresh` reads it from Redis rather than the cache. */
  async require(poolKey: string, fresh = false): Promise<PoolState> {
    if (typeof poolKey !== 'string' || !poolKey) throw xlineError('POOLKEY_NOT_EXISTS', 'PoolKey is required');
    const st = await this.run.guard('pool', () => this.poolState(poolKey, fresh));
    if (!st) throw xlineError('POOLKEY_NOT_EXISTS', `pool ${poolKey} does not exist`);
    return st;
  }

  /** The cached pool while it is fresh, without a promise (bind's hot path), else undefined. */
  cachedFresh(poolKey: string): PoolState | undefined {
    const cached = this.pools.get(poolKey);
    return cached && Date.now() - cached.loadedAt <= this.cacheMs ? cached : undefined;
  }

  /** Drops this instance's copy of a pool (after a change of its numbers). */
  forget(poolKey: string): void {
    this.pools.delete(poolKey);
  }

  clear(): void {
    this.pools.clear();
  }

  private async readSettings(poolKey: string): Promise<PoolSettings | undefined> {
    const h = await this.redis.hgetall(poolKeyOf(poolKey));
    if (!h || h.name === undefined) return undefined;
    const s: PoolSettings = { name: h.name, strictCity: h.strict === '1' };
    if (h.ring) s.ringConfig = JSON.parse(h.ring) as PoolSettings['ringConfig'];
    return s;
  }

  /** Every X the pool index names, with its hint (a hint; per-X meta is the truth). */
  private async readPoolNumbers(poolKey: string, dl?: Deadline): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, kv] = await this.redis.hscan(poolNumbersKey(poolKey), cursor, 'COUNT', 1000);
      dl?.renew();
      for (let i = 0; i + 1 < kv.length; i += 2) out.set(kv[i]!, kv[i + 1]!);
      cursor = next;
    } while (cursor !== '0');
    return out;
  }

  /** Cached pool (settings + numbers by city); refreshed in the background once stale. */
  private async poolState(poolKey: string, fresh = false): Promise<PoolState | undefined> {
    const cached = this.pools.get(poolKey);
    const stale = !cached || Date.now() - cached.loadedAt > this.cacheMs;
    if (cached && !fresh) {
      if (stale) void this.loadPool(poolKey).catch(() => undefined);
      return cached;
    }
    return this.loadPool(poolKey);
  }

  private loadPool(poolKey: string): Promise<PoolState | undefined> {
    let p = this.loading.get(poolKey);
    if (!p) {
      p = this.readPool(poolKey).finally(() => this.loading.delete(poolKey));
      this.loading.set(poolKey, p);
    }
    return p;
  }

  private async readPool(poolKey: string): Promise<PoolState | undefined> {
    const settings = await this.readSettings(poolKey);
    if (!settings) {
      this.pools.delete(poolKey);
      return undefined;
    }
    const nums = await this.readPoolNumbers(poolKey);
    const byCity = new Map<string, string[]>();
    const byArea = new Map<string, string[]>();
    const add = (m: Map<string, string[]>, k: string, x: string) => {
      let l = m.get(k);
      if (!l) m.set(k, (l = []));
      l.push(x);
    };
    for (const [x, hint] of nums) {
      // the hint is the city, or city US areaCode (poolHint)
      const i = hint.indexOf(SEP);
      add(byCity, i < 0 ? hint : hint.slice(0, i), x);
      if (i >= 0) add(byArea, hint.slice(i + 1), x);
    }
    const st: PoolState = { settings, all: [...nums.keys()], byCity, byArea, loadedAt: Date.now() };
    this.pools.set(poolKey, st);
    return st;
  }
}

type PoolView = Pick<PoolState, 'settings' | 'all' | 'byCity'>;

/** The lists bind tries in order: ExpectCity's numbers first (relaxed) or only (strict), or all. */
export function candidateLists(pool: PoolView, expectCity?: string): string[][] {
  if (!expectCity) return [pool.all];
  const local = pool.byCity.get(expectCity) ?? [];
  if (pool.settings.strictCity) return [local];
  const out = [local];
  for (const [city, l] of pool.byCity) if (city !== expectCity) out.push(l);
  return out;
}

/**
 * Huawei areaCode: the pool's numbers of that area code; relaxed ("1") then every other number.
 * Xline knows no provinces, so Huawei's "same province next" step is not taken (README).
 */
export function areaLists(pool: PoolView & Pick<PoolState, 'byArea'>, area: string, match: AreaMatch): string[][] {
  const local = pool.byArea.get(area) ?? [];
  if (match === 'strict') return [local];
  const mine = new Set(local);
  return [local, pool.all.filter((x) => !mine.has(x))];
}
