// Numbers: X numbers added to pools, the operator's inventory not yet in a pool (inv:{city}), and
// moving a number between the two (BuySecretNo, ReleaseSecretNo). x:{X}.p, the X's pool, is the
// truth (absent: in inventory); the pool and inventory indexes are hints in other slots, so one
// operation cannot update them atomically with x:{X}. Crash safety, step by step:
// - addNumbers: claim x:{X} first, then add the pool hint. A crash in between leaves an X owned by
//   the pool but not offered for allocation nor counted by getPool until reconcile() re-adds it.
// - buyNumber: ZREM the inventory hint first (a reservation: only one buyer wins it), then claim
//   x:{X}, then add the pool hint. A crash after the ZREM leaves the X in inventory per x:{X} but
//   invisible; a crash after the claim leaves it in the pool without a hint; reconcile() re-adds
//   either hint. The reservation is the one hint written before the truth: it is guarded
//   (script-runner.ts), and put back when the buy itself comes too late.
// - releaseNumber: x:{X} back to inventory first (refused while live bindings exist), then drop
//   the pool hint and add the inventory hint; a crash leaves a stale pool hint (binds skip it: the
//   per-X script answers NOPOOL; reconcile() drops it) and a missing inventory hint (re-added).
// countInventory counts hints (exact without crashes).
import { xlineError } from '../domain/errors.js';
import { INVENTORY_CITIES_KEY, inventoryKey, isStoreNumber, poolHint, poolNumbersKey } from './codec.js';
import { Deadline, StorageUnavailableError } from './deadline.js';
import { checkEntries, checkText } from './input-checks.js';
import type { PoolStore } from './pool-store.js';
import type { ScriptRunner } from './script-runner.js';
import type { NumberEntry, StoreCallOptions } from './types.js';

/** What adding numbers did: new ones, ones already there, ones owned elsewhere. */
export interface NumbersAdded {
  added: number;
  existing: number;
  conflicts: string[];
}

export class NumberInventory {
  constructor(
    private readonly run: ScriptRunner,
    private readonly pools: PoolStore,
  ) {}

  private get redis() {
    return this.run.redis;
  }

  async addNumbers(poolKey: string, numbers: NumberEntry[], opts: StoreCallOptions = {}): Promise<NumbersAdded> {
    const list = checkEntries(numbers);
    const dl = opts.deadline ?? new Deadline(true);
    await this.pools.require(poolKey, true);
    const out: NumbersAdded = { added: 0, existing: 0, conflicts: [] };
    await this.run.guard('addNumbers', async () => {
      for (let i = 0; i < list.length; i += 500) {
        await Promise.all(
          list.slice(i, i + 500).map(async ({ number, city, areaCode }) => {
            const [st, prev, area] = await this.run.writePerX('claim', number, dl, poolKey, city, areaCode ?? '');
            if (st === 'CONFLICT') return void out.conflicts.push(number);
            if (st === 'ADDED') {
              dl.landed++;
              out.added++;
              if (prev) await this.redis.zrem(inventoryKey(String(prev)), number);
              await this.redis.hset(poolNumbersKey(poolKey), number, poolHint(city, areaCode));
            } else {
              out.existing++;
              // heal a hint lost by a crash; the city stays what x:{X} says; a new area code is set
              if (areaCode) await this.redis.hset(poolNumbersKey(poolKey), number, poolHint(String(prev) || city, String(area)));
              else await this.redis.hsetnx(poolNumbersKey(poolKey), number, poolHint(city, area ? String(area) : undefined));
            }
          }),
        );
      }
    });
    this.pools.forget(poolKey);
    return out;
  }

  async addInventory(numbers: NumberEntry[], opts: StoreCallOptions = {}): Promise<NumbersAdded> {
    const list = checkEntries(numbers);
    const dl = opts.deadline ?? new Deadline(true);
    const out: NumbersAdded = { added: 0, existing: 0, conflicts: [] };
    await this.run.guard('addInventory', async () => {
      for (let i = 0; i < list.length; i += 500) {
        await Promise.all(
          list.slice(i, i + 500).map(async ({ number, city }) => {
            const [st, cur] = await this.run.writePerX('inventory', number, dl, city);
            if (st === 'CONFLICT') return void out.conflicts.push(number);
            const c = st === 'ADDED' ? city : String(cur);
            if (st === 'ADDED') {
              dl.landed++;
              out.added++;
            } else out.existing++;
            await this.redis.zadd(inventoryKey(c), 'NX', 0, number);
            await this.redis.sadd(INVENTORY_CITIES_KEY, c);
          }),
        );
      }
    });
    return out;
  }

  async buyNumber(poolKey: string, city: string, prefix?: string, opts: StoreCallOptions = {}): Promise<NumberEntry> {
    checkText('city', city, true);
    if (prefix !== undefined && prefix !== '' && !/^\+?\d{1,20}$/.test(prefix)) throw xlineError('ILLEGAL_ARGUMENT', 'SpecId/prefix must be digits');
    const dl = opts.deadline ?? new Deadline(true);
    await this.pools.require(poolKey, true);
    const [min, max] = lexRange(prefix);
    const entry = await this.run.guard('buyNumber', async () => {
      for (let round = 0; round < 100; round++) {
        const cands = await this.redis.zrangebylex(inventoryKey(city), min, max, 'LIMIT', 0, 16);
        if (!cands.length) return undefined;
        for (const x of cands) {
          // the ZREM is the reservation: of concurrent buyers only one removes the hint
          const [, removed] = await this.run.writeKey('guarded', 'buyNumber', inventoryKey(city), dl, 'ZREM', x);
          if (Number(removed) !== 1) continue;
          let st: string | number | undefined;
          try {
            [st] = await this.run.writePerX('buy', x, dl, poolKey, city);
          } catch (e) {
            // refused after the deadline: X is still inventory, so its hint goes back (in the
            // background: this only restores what x:{X} says; reconcile() would too, later)
            if (e instanceof StorageUnavailableError) this.redis.zadd(inventoryKey(city), 'NX', 0, x).catch(() => undefined);
            throw e;
          }
          if (st !== 'OK') continue; // the hint was stale; it is gone now
          dl.landed++;
          // the answer is the buy: a lost pool hint is re-added by reconcile()
          this.redis.hset(poolNumbersKey(poolKey), x, city).catch((e: unknown) => this.run.hintFailed('buyNumber pool hint', e));
          return { number: x, city };
        }
      }
      return undefined;
    });
    if (!entry) throw xlineError('NO_AVAILABLE_NUMBER', `no inventory number in ${city}${prefix ? ` starting with ${prefix}` : ''}`);
    this.pools.forget(poolKey);
    return entry;
  }

  async releaseNumber(poolKey: string, x: string, opts: StoreCallOptions = {}): Promise<void> {
    const dl = opts.deadline ?? new Deadline(true);
    await this.pools.require(poolKey);
    if (!isStoreNumber(x)) throw xlineError('NO_NOT_EXIST', 'number not in pool');
    const [st, city] = await this.run.guard('releaseNumber', () => this.run.writePerX('release', x, dl, poolKey));
    if (st === 'NOPOOL') throw xlineError('NO_NOT_EXIST', `number not in pool ${poolKey}`);
    if (st === 'BUSY') throw xlineError('FORBIDDEN_ACTION', 'number has live bindings; unbind them first');
    dl.landed++;
    this.pools.forget(poolKey);
    // The answer is the release: the hints follow it (a stale pool hint is skipped by binds, a
    // missing inventory hint re-added by reconcile()). Sent now, so a request after this answer
    // finds them (commands to one node keep their order).
    const hints: Promise<unknown>[] = [this.redis.hdel(poolNumbersKey(poolKey), x)];
    if (city) hints.push(this.redis.zadd(inventoryKey(String(city)), 0, x), this.redis.sadd(INVENTORY_CITIES_KEY, String(city)));
    Promise.all(hints).catch((e: unknown) => this.run.hintFailed('releaseNumber hints', e));
  }

  async countInventory(city: string, prefix?: string): Promise<number> {
    checkText('city', city, true);
    if (prefix !== undefined && prefix !== '' && !/^\+?\d{1,20}$/.test(prefix)) throw xlineError('ILLEGAL_ARGUMENT', 'prefix must be digits');
    const [min, max] = lexRange(prefix);
    return this.run.guard('countInventory', () => this.redis.zlexcount(inventoryKey(city), min, max));
  }

  /** Cities with inventory numbers (a hint set: a city whose numbers were all bought may remain, answering 0). */
  async inventoryCities(): Promise<string[]> {
    return this.run.guard('inventoryCities', () => this.redis.smembers(INVENTORY_CITIES_KEY));
  }
}

/** ZRANGEBYLEX bounds of the numbers starting with `prefix` (all without one). */
function lexRange(prefix?: string): [string, string] {
  return prefix ? [`[${prefix}`, `(${prefix}\xff`] : ['-', '+'];
}
