// Store reads the Huawei AX and AXE interfaces need beyond BindingStore and huawei-store.ts: a
// binding by an index entry of X (AX's origNum + privateNum, AXE's virtualNum + extendNum), X's
// live bindings page by page in SubsId order (AXE v2 cursor query), and the X numbers an AX A
// holds (query by origNum alone). Read-only scripts on one X's keys (lua/hw-at.lua,
// lua/hw-page.lua); the A → X index `axa:{A}` is a hint in another slot, written after a bind
// landed and confirmed against X's own keys on every read.
import type { Binding } from '../domain/binding.js';
import { isExtension, isStoreNumber, unpackRecord, xKeys } from './codec.js';
import type { RedisBindingStore } from './redis-store.js';

/** The hint set of X numbers an A was bound to in AX mode. */
export const axOwnerKey = (a: string) => `axa:{${a}}`;

export interface BindingPage {
  bindings: Binding[];
  /** Live bindings on X in all. */
  total: number;
  /** More follow the last one given. */
  more: boolean;
}

export class HuaweiModesStore {
  /** The scripts (lua/hw-at.lua, lua/hw-page.lua) are defined with the store's own (scripts.ts). */
  constructor(private readonly store: RedisBindingStore) {}

  private get redis() {
    return this.store.redis;
  }

  /** The live binding of pool `poolKey` on X whose A (or AXB B) is `number`. */
  async byNumber(poolKey: string, x: string, number: string): Promise<Binding | undefined> {
    if (!isStoreNumber(x) || !isStoreNumber(number)) return undefined;
    return this.at(poolKey, x, number);
  }

  /** AXE: the live binding of extension `ext` on X. */
  async byExtension(poolKey: string, x: string, ext: string): Promise<Binding | undefined> {
    if (!isStoreNumber(x) || !isExtension(ext)) return undefined;
    return this.at(poolKey, x, '#' + ext);
  }

  private async at(poolKey: string, x: string, field: string): Promise<Binding | undefined> {
    const r = await this.store.runPerX('hw-at', x, undefined, poolKey, field);
    return r[0] === 'OK' ? unpackRecord(String(r[2]), x, String(r[1]), poolKey) : undefined;
  }

  /** Up to `limit` live bindings on X with a sequence after `after`, in SubsId order. */
  async page(poolKey: string, x: string, after: number, limit: number): Promise<BindingPage> {
    if (!isStoreNumber(x)) return { bindings: [], total: 0, more: false };
    const r = await this.store.runPerX('hw-page', x, undefined, poolKey, after, limit);
    if (r[0] !== 'OK') return { bindings: [], total: 0, more: false };
    const bindings: Binding[] = [];
    for (let i = 3; i + 1 < r.length; i += 2) bindings.push(unpackRecord(String(r[i + 1]), x, String(r[i]), poolKey));
    return { bindings, total: Number(r[1]), more: Number(r[2]) === 1 };
  }

  /** Notes that A holds X in AX mode (a hint: losing it only hides X from a query by origNum alone). */
  async noteAxOwner(a: string, x: string): Promise<void> {
    await this.redis.sadd(axOwnerKey(a), x).catch(() => undefined);
  }

  /** AX: the live bindings of pool `poolKey` whose A is `a`, each confirmed on its X, oldest first. */
  async axBindingsOf(poolKey: string, a: string): Promise<Binding[]> {
    if (!isStoreNumber(a)) return [];
    const xs = await this.redis.smembers(axOwnerKey(a));
    const found = await Promise.all(xs.map((x) => this.at(poolKey, x, a)));
    const out: Binding[] = [];
    const unconfirmed: string[] = [];
    found.forEach((b, i) => {
      if (b && b.mode === 'AX' && b.a === a) out.push(b);
      else if (!b) unconfirmed.push(xs[i]!);
    });
    // a hint may name A's binding in another pool: only those dead everywhere are dropped
    if (unconfirmed.length) await this.pruneAxOwner(a, unconfirmed);
    return out.sort((p, q) => p.createdAt - q.createdAt || p.subsId.localeCompare(q.subsId));
  }

  private async pruneAxOwner(a: string, xs: string[]): Promise<void> {
    const dead: string[] = [];
    for (const x of xs) {
      const pool = await this.redis.hget(xKeys(x)[0], 'p');
      if (!pool || !(await this.at(pool, x, a))) dead.push(x);
    }
    if (dead.length) await this.redis.srem(axOwnerKey(a), ...dead).catch(() => undefined);
  }
}
