// Store reads the Huawei API needs beyond BindingStore: a binding by an index entry of X (AX's
// origNum + privateNum, AXE's virtualNum + extendNum), X's live bindings page by page in SubsId
// order (AXE v2 cursor query), and the X numbers an AX A holds (query by origNum alone).
// Read-only scripts on one X's keys (src/store/lua/hw-*.lua); the A → X index is a hint in another
// slot, written after a bind landed and checked against X's own keys on every read.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis } from 'ioredis';
import type { Binding } from '../domain/binding.js';
import { isExtension, isStoreNumber, unpackRecord, xKeys } from './codec.js';
import { asStorageError } from './deadline.js';
import type { RedisBindingStore } from './redis-store.js';

type Reply = (string | number)[];
type ScriptFn = (...args: (string | number)[]) => Promise<Reply>;

/** The hint set of X numbers an A was bound to in AX mode. */
export const axOwnerKey = (a: string) => `axa:{${a}}`;

const defined = new WeakSet<object>();

function define(redis: Redis | Cluster): void {
  if (defined.has(redis)) return;
  const dir = fileURLToPath(new URL('./lua/', import.meta.url));
  const alt = fileURLToPath(new URL('../../src/store/lua/', import.meta.url));
  const read = (f: string) => {
    try {
      return readFileSync(dir + f, 'utf8');
    } catch {
      return readFileSync(alt + f, 'utf8');
    }
  };
  const lib = read('lib.lua');
  redis.defineCommand('xl_hwPage', { numberOfKeys: 4, lua: `${lib}\n${read('hw-page.lua')}` });
  redis.defineCommand('xl_hwAt', { numberOfKeys: 4, lua: `${lib}\n${read('hw-at.lua')}` });
  defined.add(redis);
}

export interface BindingPage {
  bindings: Binding[];
  /** Live bindings on X in all. */
  total: number;
  /** More follow the last one given. */
  more: boolean;
}

export class HuaweiStore {
  private readonly redis: Redis | Cluster;

  constructor(private readonly store: RedisBindingStore) {
    this.redis = store.redis;
    define(this.redis);
  }

  private run(name: 'xl_hwPage' | 'xl_hwAt', x: string, ...args: (string | number)[]): Promise<Reply> {
    const fn = (this.redis as unknown as Record<string, ScriptFn>)[name]!;
    return fn.call(this.redis, ...xKeys(x), ...args).catch((e: unknown) => {
      const s = asStorageError(e, name);
      if (s) this.store.outage.operationFailed(name, s.detail);
      return Promise.reject(s ?? e);
    });
  }

  /** The live binding of pool `poolKey` on X whose A (or B) is `number`. */
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
    const r = await this.run('xl_hwAt', x, poolKey, field);
    return r[0] === 'OK' ? unpackRecord(String(r[2]), x, String(r[1]), poolKey) : undefined;
  }

  /** Up to `limit` live bindings on X with a sequence after `after`, in SubsId order. */
  async page(poolKey: string, x: string, after: number, limit: number): Promise<BindingPage> {
    if (!isStoreNumber(x)) return { bindings: [], total: 0, more: false };
    const r = await this.run('xl_hwPage', x, poolKey, after, limit);
    if (r[0] !== 'OK') return { bindings: [], total: 0, more: false };
    const bindings: Binding[] = [];
    for (let i = 3; i + 1 < r.length; i += 2) bindings.push(unpackRecord(String(r[i + 1]), x, String(r[i]), poolKey));
    return { bindings, total: Number(r[1]), more: Number(r[2]) === 1 };
  }

  /** Notes that A holds X in AX mode (a hint: a failure only costs a query by origNum that X). */
  async noteAxOwner(a: string, x: string): Promise<void> {
    await this.redis.sadd(axOwnerKey(a), x).catch(() => undefined);
  }

  /** AX: the live bindings of pool `poolKey` whose A is `a`, each confirmed on its X; stale hints go. */
  async axBindingsOf(poolKey: string, a: string): Promise<Binding[]> {
    if (!isStoreNumber(a)) return [];
    const xs = await this.redis.smembers(axOwnerKey(a));
    const found = await Promise.all(xs.map((x) => this.at(poolKey, x, a)));
    const out: Binding[] = [];
    const stale: string[] = [];
    found.forEach((b, i) => {
      if (b && b.mode === 'AX' && b.a === a) out.push(b);
      else if (!b) stale.push(xs[i]!);
    });
    // a hint may name A's binding in another pool: only those dead everywhere are dropped
    if (stale.length) await this.pruneAxOwner(a, stale);
    return out.sort((p, q) => p.createdAt - q.createdAt || p.subsId.localeCompare(q.subsId));
  }

  /** Drops hints whose X has no live AX binding of A in any pool (checked on X's own meta). */
  private async pruneAxOwner(a: string, xs: string[]): Promise<void> {
    const dead: string[] = [];
    for (const x of xs) {
      const pool = await this.redis.hget(xKeys(x)[0], 'p');
      if (!pool || !(await this.at(pool, x, a))) dead.push(x);
    }
    if (dead.length) await this.redis.srem(axOwnerKey(a), ...dead).catch(() => undefined);
  }
}
