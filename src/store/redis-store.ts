// BindingStore over Redis (standalone or Cluster). Every invariant lives in one Lua script per
// operation on one X's keys (src/store/lua, key schema in codec.ts); this class validates input,
// picks candidate X numbers, maps script answers to Alibaba error codes and keeps the cross-slot
// indexes (pools, inventory, sweep due-index) that are only hints.
//
// Source of truth and crash safety (Cluster: the per-X keys, the pool index, the inventory index
// and the due index live in different slots, so one operation cannot update them atomically):
// - x:{X}.p (the X's pool) decides ownership. Every per-X script re-checks it, so a stale hint can
//   never hand one X to two pools or two conflicting bindings; at worst a try fails and moves on.
// - numbers in pools and inventory: number-inventory.ts says what a crash between steps leaves.
// - bindings and the sweep's due index: binding-writes.ts says what a crash between steps leaves.
//
// Deadlines and Redis errors: script-runner.ts.
import type { Cluster, Redis } from 'ioredis';
import type { Binding, BindingPatch } from '../domain/binding.js';
import type { Lookup } from '../domain/route.js';
import type { Logger } from '../log.js';
import { BindingReads } from './binding-reads.js';
import { BindingWrites } from './binding-writes.js';
import { DUE_SHARDS, INVENTORY_CITIES_KEY, POOLS_KEY, dueKey, dueShard, inventoryKey, poolHint, poolNumbersKey } from './codec.js';
import { Deadline, StorageUnavailableError } from './deadline.js';
import { NumberInventory, type NumbersAdded } from './number-inventory.js';
import type { StorageOutageLog } from './outage-log.js';
import { candidateLists, PoolStore } from './pool-store.js';
import { ScriptRunner, type Reply } from './script-runner.js';
import type { BindRequest, BindingStore, NonceClaim, NumberEntry, PoolInfo, PoolSettings, StoreCallOptions } from './types.js';

export interface RedisStoreOptions {
  log?: Logger;
  /** How long one instance trusts its copy of a pool's settings and numbers (ms). Default 5000. */
  poolCacheMs?: number;
  /** X numbers taken from each due-index shard per sweep() call. Default 200. */
  sweepBatch?: number;
  /** Expired bindings removed per X per script call (bounds each script's run time). Default 200. */
  sweepPerX?: number;
  /** Upper bound of candidate X numbers tried by one bind. Default 5000. */
  maxBindTries?: number;
  /** How far Redis's clock may run behind xline's (REDIS_CLOCK_SKEW_MS; deadline.ts). Default 0. */
  clockSkewMs?: number;
  /** Time between the outage log's summaries (outage-log.ts). Default 5000 ms. */
  outageSummaryMs?: number;
}


interface ReconcileState {
  phase: 'metas' | 'pools' | 'inventory';
  nodes: { client: Redis; cursor: string; started: boolean }[] | undefined;
  pools: string[];
  poolCursor?: string;
  cities: string[];
  invOffset?: number;
}


export class RedisBindingStore implements BindingStore {
  private readonly sweepBatch: number;
  private readonly sweepPerX: number;
  private readonly pools: PoolStore;
  private readonly inventory: NumberInventory;
  private readonly writes: BindingWrites;
  private readonly reads: BindingReads;
  private readonly run: ScriptRunner;

  constructor(
    readonly redis: Redis | Cluster,
    opts: RedisStoreOptions = {},
  ) {
    this.sweepBatch = opts.sweepBatch ?? 200;
    this.sweepPerX = opts.sweepPerX ?? 200;
    this.run = new ScriptRunner(redis, opts);
    this.pools = new PoolStore(this.run, opts.poolCacheMs ?? 5000);
    this.inventory = new NumberInventory(this.run, this.pools);
    this.writes = new BindingWrites(this.run, this.pools, opts.maxBindTries ?? 5000);
    this.reads = new BindingReads(this.run);
  }

  /**
   * For the stores of other areas on this connection (the Huawei API's, huawei-store.ts): runs
   * their script command `xl_<name>` on X's keys with this store's retries and error mapping;
   * given a deadline, as a guarded write (the script starts with guard.lua).
   */
  runPerX(name: string, x: string, dl: Deadline | undefined, ...args: (string | number)[]): Promise<Reply> {
    return this.run.guard(name, () => (dl ? this.run.writePerX(name, x, dl, ...args) : this.run.perX(name, x, ...args)));
  }

  /** Likewise a guarded script command on one key of its own. */
  runKeyed(name: string, key: string, dl: Deadline, ...args: (string | number)[]): Promise<Reply> {
    return this.run.guard(name, () => this.run.writeKey(name, name, key, dl, ...args));
  }

  // ---------------------------------------------------------------- pools

  upsertPool(poolKey: string, settings: PoolSettings, opts?: StoreCallOptions): Promise<void> {
    return this.pools.upsertPool(poolKey, settings, opts);
  }

  getPool(poolKey: string, opts?: StoreCallOptions): Promise<PoolInfo | undefined> {
    return this.pools.getPool(poolKey, opts);
  }

  listPools(): Promise<string[]> {
    return this.pools.listPools();
  }

  // ---------------------------------------------------------------- numbers

  addNumbers(poolKey: string, numbers: NumberEntry[], opts?: StoreCallOptions): Promise<NumbersAdded> {
    return this.inventory.addNumbers(poolKey, numbers, opts);
  }

  addInventory(numbers: NumberEntry[], opts?: StoreCallOptions): Promise<NumbersAdded> {
    return this.inventory.addInventory(numbers, opts);
  }

  buyNumber(poolKey: string, city: string, prefix?: string, opts?: StoreCallOptions): Promise<NumberEntry> {
    return this.inventory.buyNumber(poolKey, city, prefix, opts);
  }

  releaseNumber(poolKey: string, x: string, opts?: StoreCallOptions): Promise<void> {
    return this.inventory.releaseNumber(poolKey, x, opts);
  }

  countInventory(city: string, prefix?: string): Promise<number> {
    return this.inventory.countInventory(city, prefix);
  }

  inventoryCities(): Promise<string[]> {
    return this.inventory.inventoryCities();
  }

  // ---------------------------------------------------------------- bindings

  /** Standalone only: on a Cluster the nonce key and X's keys are in different slots. */
  get bindClaimsNonce(): boolean {
    return !this.run.isCluster;
  }

  bind(req: BindRequest, opts?: StoreCallOptions & { nonce?: NonceClaim }): Promise<Binding> {
    return this.writes.bind(req, opts);
  }

  unbind(poolKey: string, x: string, subsId: string, opts?: StoreCallOptions): Promise<void> {
    return this.writes.unbind(poolKey, x, subsId, opts);
  }

  update(poolKey: string, x: string, subsId: string, patch: BindingPatch, opts?: StoreCallOptions): Promise<Binding> {
    return this.writes.update(poolKey, x, subsId, patch, opts);
  }

  get(poolKey: string, x: string, subsId: string): Promise<Binding | undefined> {
    return this.reads.get(poolKey, x, subsId);
  }

  findSubsId(poolKey: string, x: string, number?: string): Promise<string | undefined> {
    return this.reads.findSubsId(poolKey, x, number);
  }

  lookup(caller: string, x: string, extension?: string): Promise<Lookup> {
    return this.reads.lookup(caller, x, extension);
  }

  // ---------------------------------------------------------------- expiry

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
        const due = await this.redis.zrangebyscore(key, '-inf', now, 'WITHSCORES', 'LIMIT', 0, this.sweepBatch);
        const work: Promise<void>[] = [];
        for (let i = 0; i + 1 < due.length; i += 2) {
          const x = due[i]!;
          const old = due[i + 1]!;
          work.push(
            (async () => {
              const [n, next] = await this.run.perX('sweep', x, this.sweepPerX);
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

  /** dypls replay protection: true when the nonce was unused (now claimed for ttlSeconds); a late claim claims nothing. */
  async claimNonce(key: string, ttlSeconds: number, opts: StoreCallOptions = {}): Promise<boolean> {
    const dl = opts.deadline ?? new Deadline();
    return this.run.guard('claimNonce', async () => {
      const [, ok] = await this.run.writeKey('guarded', 'claimNonce', `nonce:${key}`, dl, 'SET', '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX');
      return ok === 'OK';
    });
  }

  // ---------------------------------------------------------------- reconcile

  private rec: ReconcileState = { phase: 'metas', nodes: undefined, pools: [], cities: [] };

  /**
   * The slow repair of cross-slot hints after crashes (see the top of this file). Walks, in
   * steps of at most `maxKeys` keys, (1) every x:{X} meta (SCAN on each master), re-adding a
   * missing pool hint, inventory hint or due-index entry; (2) every pool's hints, dropping those
   * whose x:{X} names another owner; (3) every city's inventory hints, likewise. Only hints are
   * written, never x:{X}, so it cannot create a conflict; racing a concurrent buy/release it can
   * at worst leave a stale hint that the next reader drops. Safe on several instances at once.
   * Returns how many keys it looked at, how many hints it repaired, and whether a cycle ended.
   */
  async reconcile(maxKeys = 500): Promise<{ checked: number; repaired: number; done: boolean }> {
    return this.run.guard('reconcile', async () => {
      try {
        return await this.reconcileSteps(maxKeys);
      } catch (e) {
        // a failover may have changed the masters: start the cycle over
        this.rec = { phase: 'metas', nodes: undefined, pools: [], cities: [] };
        throw e;
      }
    });
  }

  private async reconcileSteps(maxKeys: number): Promise<{ checked: number; repaired: number; done: boolean }> {
    const st = this.rec;
    let checked = 0;
    let repaired = 0;
    // bounded by keys looked at and by round trips (SCAN over a sparse keyspace finds few)
    for (let calls = 0; checked < maxKeys && calls < 20; calls++) {
      if (st.phase === 'metas') {
        if (!st.nodes) st.nodes = this.scanTargets().map((client) => ({ client, cursor: '0', started: false }));
        const node = st.nodes.find((n) => !(n.started && n.cursor === '0'));
        if (!node) {
          st.nodes = undefined;
          st.phase = 'pools';
          st.pools = await this.redis.smembers(POOLS_KEY);
          st.poolCursor = '0';
          continue;
        }
        node.started = true;
        const [next, keys] = await node.client.scan(node.cursor, 'MATCH', 'x:{*}', 'COUNT', 200);
        node.cursor = next;
        checked += keys.length;
        repaired += (await Promise.all(keys.map((k) => this.repairMeta(k.slice(3, -1))))).reduce((a, b) => a + b, 0);
      } else if (st.phase === 'pools') {
        const pool = st.pools[0];
        if (pool === undefined) {
          st.phase = 'inventory';
          st.cities = await this.redis.smembers(INVENTORY_CITIES_KEY);
          st.invOffset = 0;
          continue;
        }
        const [next, kv] = await this.redis.hscan(poolNumbersKey(pool), st.poolCursor ?? '0', 'COUNT', 200);
        st.poolCursor = next;
        if (next === '0') st.pools.shift();
        const xs = kv.filter((_, i) => i % 2 === 0);
        checked += xs.length;
        const stats = await Promise.all(xs.map((x) => this.run.perX('stat', x)));
        const stale = xs.filter((_, i) => stats[i]![0] !== pool);
        if (stale.length) repaired += await this.redis.hdel(poolNumbersKey(pool), ...stale);
      } else {
        const city = st.cities[0];
        if (city === undefined) {
          st.phase = 'metas';
          return { checked, repaired, done: true };
        }
        // lex order is stable under concurrent removals; an offset walk may skip a few, next cycle gets them
        const xs = await this.redis.zrange(inventoryKey(city), st.invOffset ?? 0, (st.invOffset ?? 0) + 199);
        if (xs.length < 200) {
          st.cities.shift();
          st.invOffset = 0;
        } else st.invOffset = (st.invOffset ?? 0) + 200;
        checked += xs.length;
        const stats = await Promise.all(xs.map((x) => this.run.perX('stat', x)));
        const stale = xs.filter((_, i) => stats[i]![0] !== '' || stats[i]![1] !== city);
        if (stale.length) {
          repaired += await this.redis.zrem(inventoryKey(city), ...stale);
          if (st.invOffset) st.invOffset = Math.max(0, st.invOffset - stale.length);
        }
      }
    }
    return { checked, repaired, done: false };
  }
  /** Masters to SCAN: every master of a Cluster, or the one server. */
  private scanTargets(): Redis[] {
    return this.run.isCluster ? (this.redis as Cluster).nodes('master') : [this.redis as Redis];
  }

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

  /** true when Redis answers a PING within the timeout. */
  ping(): Promise<boolean> {
    return this.run.ping();
  }

  /** Where requests failed for want of storage report (outage-log.ts). */
  get outage(): StorageOutageLog {
    return this.run.outage;
  }

  /** The store does not own the connection (createRedisConnection's close() does). */
  async close(): Promise<void> {
    this.outage.stop();
    this.pools.clear();
  }
}

/**
 * Runs store.sweep() every intervalMs (never overlapping; immediately again while it finds full
 * batches, so a backlog drains without waiting). Returns stop().
 */
export function startSweeper(store: BindingStore, intervalMs: number, log: Logger): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const reconcile = store instanceof RedisBindingStore ? store : undefined;
  const tick = async () => {
    if (stopped) return;
    let again = false;
    try {
      const n = await store.sweep();
      if (n > 0) log.debug({ removed: n }, 'sweeper: expired bindings reclaimed');
      again = n >= 1000;
      // one bounded step of the hint repair per tick (a full cycle over 10M X takes hours: it
      // only mends what a crash between two steps of a multi-slot operation left behind)
      const r = await reconcile?.reconcile(500);
      if (r?.repaired) log.info({ repaired: r.repaired }, 'sweeper: repaired index hints');
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

// ---------------------------------------------------------------- helpers

/** Candidate X numbers in the order bind() tries them: each list from a random start. */
export function* candidates(pool: Parameters<typeof candidateLists>[0], expectCity?: string): Generator<string> {
  for (const l of candidateLists(pool, expectCity)) {
    const start = Math.floor(Math.random() * l.length);
    for (let i = 0; i < l.length; i++) yield l[(start + i) % l.length]!;
  }
}

