// Background upkeep of the store, run by every instance (several at once is safe: each step is an
// idempotent script or a hint write): the expiry sweep, which gives expired bindings' memory
// back, and reconcile, the slow repair of the cross-slot hints (pool index, inventory index, due
// index) that a crash between two steps of a multi-slot operation can leave behind
// (number-inventory.ts, binding-writes.ts). startSweeper runs both on a timer.
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { DUE_SHARDS, INVENTORY_CITIES_KEY, POOLS_KEY, dueKey, dueShard, inventoryKey, poolHint, poolNumbersKey } from './codec.js';
import { StorageUnavailableError } from './deadline.js';
import type { ScriptRunner } from './script-runner.js';

export interface MaintenanceOptions {
  /** X numbers taken from each due-index shard per sweep() call. */
  sweepBatch: number;
  /** Expired bindings removed per X per script call (bounds each script's run time). */
  sweepPerX: number;
}

/** One reconcile step: keys looked at, hints repaired, and whether a whole cycle ended. */
export interface ReconcileResult {
  checked: number;
  repaired: number;
  done: boolean;
}

/** Where reconcile's walk stands between steps. */
interface ReconcileState {
  phase: 'metas' | 'pools' | 'inventory';
  nodes: { client: Redis; cursor: string; started: boolean }[] | undefined;
  pools: string[];
  poolCursor?: string;
  cities: string[];
  invOffset?: number;
}

type Tally = { checked: number; repaired: number };

const newCycle = (): ReconcileState => ({ phase: 'metas', nodes: undefined, pools: [], cities: [] });

export class StoreMaintenance {
  private rec = newCycle();

  constructor(
    private readonly run: ScriptRunner,
    private readonly opts: MaintenanceOptions,
  ) {}

  private get redis() {
    return this.run.redis;
  }

  /**
   * One bounded sweep pass. The due index (16 shards `due:{N}`) holds each X that has bindings,
   * scored by a lower bound of its earliest expiry. A pass takes at most `sweepBatch` due X per
   * shard; for each, one script removes at most `sweepPerX` expired bindings (so no script runs
   * long) and reports the X's next expiry, and a compare-and-set moves the X's due entry there
   * unless a concurrent bind lowered it meanwhile. Only X with something due are visited: the cost
   * follows expiries, not the number of X. Several instances may sweep at once: every step is an
   * idempotent script; they only duplicate a little work.
   * Guarantees: routing never depends on the sweep (lookups check expiry with Redis TIME);
   * memory of a binding is reclaimed within a few sweep intervals of its expiry, provided its X
   * is in the due index — which a crash between a bind and its ZADD can break until reconcile().
   */
  async sweep(): Promise<number> {
    return this.run.guard('sweep', async () => {
      const now = Math.floor(Date.now() / 1000);
      let removed = 0;
      for (let shard = 0; shard < DUE_SHARDS; shard++) {
        const key = dueKey(shard);
        const due = await this.redis.zrangebyscore(key, '-inf', now, 'WITHSCORES', 'LIMIT', 0, this.opts.sweepBatch);
        const work: Promise<void>[] = [];
        for (let i = 0; i + 1 < due.length; i += 2) {
          const x = due[i]!;
          const old = due[i + 1]!;
          work.push(
            (async () => {
              const [n, next] = await this.run.perX('sweep', x, this.opts.sweepPerX);
              removed += Number(n);
              await this.run.command('dueCas', key, x, old, Number(next));
            })(),
          );
        }
        await Promise.all(work);
      }
      return removed;
    });
  }

  /**
   * The slow repair of cross-slot hints after crashes. Walks, in steps of at most `maxKeys` keys,
   * (1) every x:{X} meta (SCAN on each master), re-adding a missing pool hint, inventory hint or
   * due-index entry; (2) every pool's hints, dropping those whose x:{X} names another owner;
   * (3) every city's inventory hints, likewise. Only hints are written, never x:{X}, so it cannot
   * create a conflict; racing a concurrent buy/release it can at worst leave a stale hint that the
   * next reader drops. Safe on several instances at once.
   */
  async reconcile(maxKeys = 500): Promise<ReconcileResult> {
    return this.run.guard('reconcile', async () => {
      try {
        return await this.reconcileSteps(maxKeys);
      } catch (e) {
        // a failover may have changed the masters: start the cycle over
        this.rec = newCycle();
        throw e;
      }
    });
  }

  private async reconcileSteps(maxKeys: number): Promise<ReconcileResult> {
    const st = this.rec;
    const tally: Tally = { checked: 0, repaired: 0 };
    // bounded by keys looked at and by round trips (SCAN over a sparse keyspace finds few)
    for (let calls = 0; tally.checked < maxKeys && calls < 20; calls++) {
      if (st.phase === 'metas') await this.metasStep(st, tally);
      else if (st.phase === 'pools') await this.poolsStep(st, tally);
      else if (!(await this.inventoryStep(st, tally))) return { ...tally, done: true };
    }
    return { ...tally, done: false };
  }

  /** (1) One SCAN page of x:{X} metas on one master, or on to the pools once every master is done. */
  private async metasStep(st: ReconcileState, tally: Tally): Promise<void> {
    if (!st.nodes) st.nodes = this.scanTargets().map((client) => ({ client, cursor: '0', started: false }));
    const node = st.nodes.find((n) => !(n.started && n.cursor === '0'));
    if (!node) {
      st.nodes = undefined;
      st.phase = 'pools';
      st.pools = await this.redis.smembers(POOLS_KEY);
      st.poolCursor = '0';
      return;
    }
    node.started = true;
    const [next, keys] = await node.client.scan(node.cursor, 'MATCH', 'x:{*}', 'COUNT', 200);
    node.cursor = next;
    tally.checked += keys.length;
    tally.repaired += (await Promise.all(keys.map((k) => this.repairMeta(k.slice(3, -1))))).reduce((a, b) => a + b, 0);
  }

  /** (2) One HSCAN page of a pool's index, dropping X that are not the pool's; on to inventory after the last pool. */
  private async poolsStep(st: ReconcileState, tally: Tally): Promise<void> {
    const pool = st.pools[0];
    if (pool === undefined) {
      st.phase = 'inventory';
      st.cities = await this.redis.smembers(INVENTORY_CITIES_KEY);
      st.invOffset = 0;
      return;
    }
    const [next, kv] = await this.redis.hscan(poolNumbersKey(pool), st.poolCursor ?? '0', 'COUNT', 200);
    st.poolCursor = next;
    if (next === '0') st.pools.shift();
    const xs = kv.filter((_, i) => i % 2 === 0);
    tally.checked += xs.length;
    const stats = await Promise.all(xs.map((x) => this.run.perX('stat', x)));
    const stale = xs.filter((_, i) => stats[i]![0] !== pool);
    if (stale.length) tally.repaired += await this.redis.hdel(poolNumbersKey(pool), ...stale);
  }

  /** (3) 200 inventory hints of a city, dropping X that are not inventory of that city; false once the cycle ended. */
  private async inventoryStep(st: ReconcileState, tally: Tally): Promise<boolean> {
    const city = st.cities[0];
    if (city === undefined) {
      st.phase = 'metas';
      return false;
    }
    // lex order is stable under concurrent removals; an offset walk may skip a few, next cycle gets them
    const xs = await this.redis.zrange(inventoryKey(city), st.invOffset ?? 0, (st.invOffset ?? 0) + 199);
    if (xs.length < 200) {
      st.cities.shift();
      st.invOffset = 0;
    } else st.invOffset = (st.invOffset ?? 0) + 200;
    tally.checked += xs.length;
    const stats = await Promise.all(xs.map((x) => this.run.perX('stat', x)));
    const stale = xs.filter((_, i) => stats[i]![0] !== '' || stats[i]![1] !== city);
    if (stale.length) {
      tally.repaired += await this.redis.zrem(inventoryKey(city), ...stale);
      if (st.invOffset) st.invOffset = Math.max(0, st.invOffset - stale.length);
    }
    return true;
  }

  /** Masters to SCAN: every master of a Cluster, or the one server. */
  private scanTargets(): Redis[] {
    return this.run.isCluster ? (this.redis as Cluster).nodes('master') : [this.redis as Redis];
  }

  /** Re-adds the hints x:{X} calls for: its pool or inventory hint, its due-index entry. */
  private async repairMeta(x: string): Promise<number> {
    const [pool, city, , due, area] = (await this.run.perX('stat', x)).map(String);
    let n = 0;
    if (pool) {
      if (city) n += await this.redis.hsetnx(poolNumbersKey(pool), x, poolHint(city, area || undefined));
    } else if (city) {
      n += await this.redis.zadd(inventoryKey(city), 'NX', 0, x);
      await this.redis.sadd(INVENTORY_CITIES_KEY, city);
    }
    if (due) {
      // CH: counts an added entry or a lowered score
      n += Number(await this.redis.zadd(dueKey(dueShard(x)), 'LT', 'CH', Number(due), x));
    }
    return n;
  }
}

/** What startSweeper drives (RedisBindingStore). */
export interface Maintained {
  sweep(): Promise<number>;
  reconcile(maxKeys: number): Promise<ReconcileResult>;
}

/**
 * Runs store.sweep() every intervalMs (never overlapping; immediately again while it finds full
 * batches, so a backlog drains without waiting), each time followed by one step of reconcile().
 * Returns stop().
 */
export function startSweeper(store: Maintained, intervalMs: number, log: Logger): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    if (stopped) return;
    let again = false;
    try {
      const n = await store.sweep();
      if (n > 0) log.debug({ removed: n }, 'sweeper: expired bindings reclaimed');
      again = n >= 1000;
      // one bounded step of the hint repair per tick (a full cycle over 10M X takes hours: it
      // only mends what a crash between two steps of a multi-slot operation left behind)
      const r = await store.reconcile(500);
      if (r.repaired) log.info({ repaired: r.repaired }, 'sweeper: repaired index hints');
    } catch (e) {
      // Redis unavailable: the outage log has it (once, then summaries), not a line per pass
      if (!(e instanceof StorageUnavailableError)) log.warn({ err: e instanceof Error ? e.message : String(e) }, 'sweeper: pass failed');
    }
    if (!stopped) timer = setTimeout(() => void tick(), again ? 10 : intervalMs);
  };
  timer = setTimeout(() => void tick(), intervalMs);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
