// Store reads and writes the Huawei AX and AXE interfaces need beyond BindingStore and
// huawei-store.ts: a binding by an index entry of X (AX's origNum + privateNum, AXE's virtualNum +
// extendNum), X's live bindings page by page in SubsId order (AXE v2 cursor query), the X numbers
// an AX A holds (query by origNum alone), the AX limit of X per A, and AXE callback records
// (lua/hw-callback.lua, written by the SIP side). Read-only scripts on one X's keys (lua/hw-at.lua,
// lua/hw-page.lua); the A → X index `axa:{A}` is a hint in another slot, written after a bind
// landed and confirmed against X's own keys on every read. The AX places of an A in an app
// (`axl:{A}:<app>`, same slot as `axa:{A}`) are reserved before the bind (lua/hw-ax-claim.lua) and
// confirmed or given back after it; a place whose binding is gone (unbound by any path) is found
// so against X's keys when the limit is reached, and dropped.
import { randomUUID } from 'node:crypto';
import type { Binding } from '../domain/binding.js';
import type { CallbackNote } from '../domain/route.js';
import { isExtension, isStoreNumber, parseSubsId, unpackRecord, xKeys } from './codec.js';
import type { Deadline } from './deadline.js';
import type { RedisBindingStore } from './redis-store.js';

/** The hint set of X numbers an A was bound to in AX mode. */
export const axOwnerKey = (a: string) => `axa:{${a}}`;
/** The AX places A holds in app `appKey` (X → '0', or a reservation while a bind runs). */
export const axPlacesKey = (a: string, appKey: string) => `axl:{${a}}:${appKey}`;
/** How long a place reserved for a bind counts without the bind reporting back. */
const RESERVATION_MS = 10_000;

/** A place reserved for one AX bind: confirm() once it landed, release() when it did not. */
export interface AxPlace {
  confirm(x: string): Promise<void>;
  release(): Promise<void>;
}

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

  /**
   * Reserves a place of A in app `appKey` for one AX bind: undefined when A already holds `limit`
   * live AX bindings of that app (nothing written). Places whose binding is gone are dropped on the way.
   */
  async reserveAxPlace(appKey: string, a: string, limit: number, dl: Deadline): Promise<AxPlace | undefined> {
    const key = axPlacesKey(a, appKey);
    const token = randomUUID();
    let r = await this.store.runKeyed('hwAxClaim', key, dl, token, limit, RESERVATION_MS);
    if (r[0] === 'FULL') {
      const xs = r.slice(1).map(String);
      const gone = await this.notBoundIn(appKey, a, xs);
      if (!gone.length) return undefined;
      r = await this.store.runKeyed('hwAxClaim', key, dl, token, limit, RESERVATION_MS, ...gone);
      if (r[0] !== 'OK') return undefined;
    }
    dl.landed++;
    const pending = 'p:' + token;
    // after the bind: hint writes (a lost one lapses with the reservation, or is dropped at the limit)
    return {
      confirm: async (x) => {
        await this.redis.multi().hset(key, x, '0').hdel(key, pending).sadd(axOwnerKey(a), x).exec().catch(() => undefined);
      },
      release: async () => {
        await this.redis.hdel(key, pending).catch(() => undefined);
      },
    };
  }

  /** AXE: records `note.caller` as the last caller of the binding (lua/hw-callback.lua); false when it is gone. */
  async noteCallback(note: CallbackNote): Promise<boolean> {
    const p = parseSubsId(note.subsId);
    if (!p || p.x !== note.x || !isStoreNumber(note.caller)) return false;
    const r = await this.store.runPerX('hw-callback', p.x, undefined, note.poolKey, p.seq, note.caller, Math.max(0, Math.floor(note.seconds)));
    return r[0] === 'OK';
  }

  /** An AX binding of A was unbound: its place is free again (a hint write). */
  async freeAxPlace(appKey: string, a: string, x: string): Promise<void> {
    await this.redis.hdel(axPlacesKey(a, appKey), x).catch(() => undefined);
  }

  /** Of `xs`, the X numbers where A holds no live AX binding of app `appKey` (any pool). */
  private async notBoundIn(appKey: string, a: string, xs: string[]): Promise<string[]> {
    const live = await Promise.all(
      xs.map(async (x) => {
        const pool = isStoreNumber(x) ? await this.redis.hget(xKeys(x)[0], 'p') : null;
        const b = pool ? await this.at(pool, x, a) : undefined;
        return !!b && b.mode === 'AX' && b.a === a && b.huawei?.appKey === appKey;
      }),
    );
    return xs.filter((_, i) => !live[i]);
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
