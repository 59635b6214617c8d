// What the Huawei PrivateNumber API keeps in Redis beyond the bindings themselves (which are the
// one binding store's, redis-store.ts, so that no X is double-booked across dialects):
//   hwapp:{appKey}  hash  an application: s = app_secret, m = mode, p = pool key,
//                         su = statusUrl, fu = feeUrl, ct = created (unix s)
//   hwapps          set   app keys (a hint for listing; hwapp:{…} is the truth)
//   axl:{A}:<app>   hash  AX: the places A holds in that app, X → '0' (or a reservation while its
//                         bind runs; lua/hw-ax-claim.lua, huawei-modes-store.ts)
// and the per-X scripts of its own interfaces (AXB query paging, unbind of every binding on an X),
// which run on X's keys under the same write guard as every other write (deadline.ts).
import { readFileSync } from 'node:fs';
import type { Binding, Mode } from '../domain/binding.js';
import { unpackRecord, xKeys } from './codec.js';
import type { Deadline } from './deadline.js';
import { RedisBindingStore } from './redis-store.js';
import { luaDir } from '../util/lua-files.js';
import type { BindingStore } from './types.js';

export const HUAWEI_MODES = ['AXB', 'AX', 'AXE'] as const;
export type HuaweiMode = (typeof HUAWEI_MODES)[number];

export interface HuaweiApp {
  appKey: string;
  appSecret: string;
  mode: HuaweiMode;
  poolKey: string;
  statusUrl?: string;
  feeUrl?: string;
  /** Unix seconds. */
  createdAt: number;
}

export const appKeyOf = (appKey: string) => `hwapp:{${appKey}}`;
export const HW_APPS_KEY = 'hwapps';

/** Per-X scripts (prefixed with lib.lua; `write` ones with guard.lua too). */
const PER_X: Array<[name: string, file: string, write: boolean]> = [
  ['hwList', 'hw-list.lua', false],
  ['hwUnbindAll', 'hw-unbind-all.lua', true],
];
const KEYED: Array<[name: string, file: string]> = [
  ['hwAppPut', 'hw-app-put.lua'],
  ['hwAxClaim', 'hw-ax-claim.lua'],
];

const defined = new WeakSet<object>();

function defineHuaweiScripts(store: RedisBindingStore): void {
  if (defined.has(store.redis)) return;
  const dir = luaDir(import.meta.url, 'store');
  const lib = readFileSync(dir + 'lib.lua', 'utf8');
  const guard = readFileSync(dir + 'guard.lua', 'utf8');
  for (const [name, file, write] of PER_X) {
    const body = readFileSync(dir + file, 'utf8');
    store.redis.defineCommand(`xl_${name}`, { numberOfKeys: 4, lua: write ? `${lib}\n${guard}\n${body}` : `${lib}\n${body}` });
  }
  for (const [name, file] of KEYED) {
    store.redis.defineCommand(`xl_${name}`, { numberOfKeys: 1, lua: `${guard}\n${readFileSync(dir + file, 'utf8')}` });
  }
  defined.add(store.redis);
}

export class HuaweiStore {
  private readonly cache = new Map<string, { app: HuaweiApp | undefined; at: number }>();

  constructor(
    readonly bindings: RedisBindingStore,
    /** How long one instance trusts its copy of an app (HUAWEI_APP_CACHE_MS). */
    private readonly cacheMs = 2000,
  ) {
    defineHuaweiScripts(bindings);
  }

  private get redis() {
    return this.bindings.redis;
  }

  // ---------------------------------------------------------------- applications

  /** Creates or replaces an app; true when it was created. The pool must exist (checked by the caller). */
  async putApp(app: Omit<HuaweiApp, 'createdAt'>, dl: Deadline): Promise<boolean> {
    const r = await this.bindings.runKeyed('hwAppPut', appKeyOf(app.appKey), dl, app.appSecret, app.mode, app.poolKey, app.statusUrl ?? '', app.feeUrl ?? '', Math.floor(Date.now() / 1000));
    dl.landed++;
    this.cache.delete(app.appKey);
    // the list follows what landed (a hint: listApps confirms each)
    await this.redis.sadd(HW_APPS_KEY, app.appKey);
    return Number(r[1]) === 1;
  }

  /** true when it existed. */
  async deleteApp(appKey: string, dl: Deadline): Promise<boolean> {
    const r = await this.bindings.runKeyed('guarded', appKeyOf(appKey), dl, 'DEL');
    this.cache.delete(appKey);
    await this.redis.srem(HW_APPS_KEY, appKey);
    return Number(r[1]) === 1;
  }

  /** The app as stored now (no cache). */
  async readApp(appKey: string): Promise<HuaweiApp | undefined> {
    const h = await this.redis.hgetall(appKeyOf(appKey));
    if (!h || h.s === undefined) return undefined;
    const app: HuaweiApp = { appKey, appSecret: h.s, mode: h.m as HuaweiMode, poolKey: h.p ?? '', createdAt: Number(h.ct ?? 0) };
    if (h.su) app.statusUrl = h.su;
    if (h.fu) app.feeUrl = h.fu;
    return app;
  }

  /**
   * The app for authenticating a request: cached for cacheMs (a change reaches other instances
   * within it). A fresh cached copy is answered without a promise (the bind hot path); otherwise
   * a promise of the stored app.
   */
  app(appKey: string): HuaweiApp | undefined | Promise<HuaweiApp | undefined> {
    const c = this.cache.get(appKey);
    if (c && Date.now() - c.at <= this.cacheMs) return c.app;
    return this.loadApp(appKey);
  }

  private async loadApp(appKey: string): Promise<HuaweiApp | undefined> {
    const app = await this.readApp(appKey);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(appKey, { app, at: Date.now() });
    return app;
  }

  /**
   * The app drawing its X numbers from the pool X (canonical) belongs to — the first by app key
   * when several share the pool — for the reports of calls refused without a binding. One HGET;
   * the app list is cached for cacheMs.
   */
  async appOfNumber(x: string): Promise<HuaweiApp | undefined> {
    const pool = await this.redis.hget(xKeys(x)[0], 'p');
    if (!pool) return undefined;
    if (!this.appList || Date.now() - this.appList.at > this.cacheMs) this.appList = { apps: await this.listApps(), at: Date.now() };
    return this.appList.apps.find((a) => a.poolKey === pool);
  }

  private appList?: { apps: HuaweiApp[]; at: number };

  async listApps(): Promise<HuaweiApp[]> {
    const keys = (await this.redis.smembers(HW_APPS_KEY)).sort();
    const apps = await Promise.all(keys.map((k) => this.readApp(k)));
    return apps.filter((a): a is HuaweiApp => a !== undefined);
  }

  async poolExists(poolKey: string): Promise<boolean> {
    return (await this.redis.exists(`pool:{${poolKey}}`)) === 1;
  }

  // ---------------------------------------------------------------- bindings

  /**
   * A page of the live `mode` bindings on X in `poolKey` (optionally the one of A and/or B):
   * undefined when X is not a number of that pool.
   */
  async list(poolKey: string, mode: Mode, x: string, a: string, b: string, offset: number, limit: number): Promise<{ total: number; bindings: Binding[] } | undefined> {
    const r = await this.bindings.runPerX('hwList', x, undefined, poolKey, mode, a, b, offset, limit);
    if (r[0] === 'NOPOOL') return undefined;
    const bindings: Binding[] = [];
    for (let i = 2; i + 1 < r.length; i += 2) bindings.push(unpackRecord(String(r[i + 1]), x, String(r[i]), poolKey));
    return { total: Number(r[1]), bindings };
  }

  /** Removes every live `mode` binding on X; undefined when X is not a number of that pool. */
  async unbindAll(poolKey: string, mode: Mode, x: string, dl: Deadline): Promise<number | undefined> {
    const r = await this.bindings.runPerX('hwUnbindAll', x, dl, poolKey, mode);
    if (r[0] === 'NOPOOL') return undefined;
    dl.landed++;
    return Number(r[1]);
  }
}

const stores = new WeakMap<BindingStore, HuaweiStore>();

/** The Huawei store on the binding store's own Redis connection (one per binding store). */
export function huaweiStoreOf(store: BindingStore, cacheMs?: number): HuaweiStore {
  let s = stores.get(store);
  if (!s) {
    if (!(store instanceof RedisBindingStore)) throw new Error('the Huawei API needs the Redis binding store');
    s = new HuaweiStore(store, cacheMs);
    stores.set(store, s);
  }
  return s;
}
