// BindingStore over Redis (standalone or Cluster): a façade over one module per concern, all on
// one connection and one script runner:
//   script-runner.ts     the Lua script commands, deadlines (write guard), Redis errors → isp.SYSTEM_ERROR
//   pool-store.ts        pools: settings, counts, each instance's cached pool and bind's candidate X
//   number-inventory.ts  numbers in pools and the operator's inventory (add, buy, release, counts)
//   binding-writes.ts    bind, update, unbind
//   binding-reads.ts     get, findSubsId, and the INVITE's lookup
//   maintenance.ts       the expiry sweep and the repair of cross-slot hints (reconcile)
//   input-checks.ts      what callers may send, refused with Alibaba's codes before Redis is asked
// Every invariant lives in one Lua script per operation on one X's keys (src/store/lua, key
// schema in codec.ts). x:{X}.p (the X's pool) decides ownership: every per-X script re-checks it,
// so a stale cross-slot hint (pool index, inventory index, due index) can never hand one X to two
// pools or two conflicting bindings; at worst a try fails and moves on. What a crash between the
// steps of a multi-slot operation leaves: number-inventory.ts, binding-writes.ts.
import type { Cluster, Redis } from 'ioredis';
import type { Binding, BindingPatch } from '../domain/binding.js';
import type { Lookup } from '../domain/route.js';
import type { Logger } from '../log.js';
import { BindingReads } from './binding-reads.js';
import { BindingWrites } from './binding-writes.js';
import { Deadline } from './deadline.js';
import { StoreMaintenance, type ReconcileResult } from './maintenance.js';
import { NumberInventory, type NumbersAdded } from './number-inventory.js';
import type { StorageOutageLog } from './outage-log.js';
import { PoolStore } from './pool-store.js';
import { ScriptRunner, type Reply } from './script-runner.js';
import type { BindRequest, BindingStore, NonceClaim, NumberEntry, PoolInfo, PoolSettings, StoreCallOptions } from './types.js';

export { startSweeper } from './maintenance.js';

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

export class RedisBindingStore implements BindingStore {
  private readonly pools: PoolStore;
  private readonly inventory: NumberInventory;
  private readonly writes: BindingWrites;
  private readonly reads: BindingReads;
  private readonly upkeep: StoreMaintenance;
  private readonly run: ScriptRunner;

  constructor(
    readonly redis: Redis | Cluster,
    opts: RedisStoreOptions = {},
  ) {
    this.run = new ScriptRunner(redis, opts);
    this.pools = new PoolStore(this.run, opts.poolCacheMs ?? 5000);
    this.inventory = new NumberInventory(this.run, this.pools);
    this.writes = new BindingWrites(this.run, this.pools, opts.maxBindTries ?? 5000);
    this.reads = new BindingReads(this.run);
    this.upkeep = new StoreMaintenance(this.run, { sweepBatch: opts.sweepBatch ?? 200, sweepPerX: opts.sweepPerX ?? 200 });
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

  // ---------------------------------------------------------------- upkeep (maintenance.ts)

  sweep(): Promise<number> {
    return this.upkeep.sweep();
  }

  /** One bounded step of the repair of cross-slot hints after crashes (maintenance.ts). */
  reconcile(maxKeys = 500): Promise<ReconcileResult> {
    return this.upkeep.reconcile(maxKeys);
  }

  /** Replay protection of both API dialects (BindingStore.claimNonce). */
  async claimNonce(key: string, ttlSeconds: number, opts: StoreCallOptions = {}): Promise<boolean> {
    const dl = opts.deadline ?? new Deadline();
    return this.run.guard('claimNonce', async () => {
      const [, ok] = await this.run.writeKey('guarded', 'claimNonce', `nonce:${key}`, dl, 'SET', '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX');
      return ok === 'OK';
    });
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
