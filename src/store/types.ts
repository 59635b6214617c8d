// The binding store's contract, shared by the admin API and the SIP app so that writes and
// lookups cannot drift (STYLE "What we take" §5). Implemented over Redis with Lua scripts.
import type { Binding, BindingPatch, CallRestrict, HuaweiFields, Mode, RingConfig } from '../domain/binding.js';
import type { Lookup } from '../domain/route.js';
import type { Deadline } from './deadline.js';
import type { StorageOutageLog } from './outage-log.js';

export interface PoolSettings {
  name: string;
  /** ExpectCity strict: no number of that city → isv.NO_AVAILABLE_NUMBER; relaxed: any city. */
  strictCity: boolean;
  /** Pool-level default ring tones (RingConfig fallback). */
  ringConfig?: RingConfig;
}

export interface PoolInfo extends PoolSettings {
  poolKey: string;
  /** Exact counts. */
  numbers: number;
  /** Numbers with at least one live binding. */
  numbersInUse: number;
  bindings: number;
  byCity: Record<string, number>;
  /** Numbers added with an area code, by area code (absent when none has one). */
  byAreaCode?: Record<string, number>;
}

export interface NumberEntry {
  number: string;
  city: string;
  /** Domestic city code with its leading 0 (`0755`), matched by Huawei's areaCode. */
  areaCode?: string;
}

/** Huawei areaMatchMode: "0" strict (only X of that area code), "1" that area first, then any X. */
export type AreaMatch = 'strict' | 'relaxed';

export interface BindRequest {
  mode: Mode;
  poolKey: string;
  a: string;
  b?: string;
  /** Requested X (PhoneNoX); required for AXE with an Extension. */
  x?: string;
  extension?: string;
  expiresAt: number;
  expectCity?: string;
  recording: boolean;
  callDisplayType: number;
  outId?: string;
  outOrderId?: string;
  ringConfig?: RingConfig;
  callRestrict?: CallRestrict;
  asrStatus?: boolean;
  asrModelId?: string;
  /** Pick X among the pool's numbers of this area code (Huawei areaCode); ignored when x is given. */
  areaCode?: string;
  /** Default strict. */
  areaMatch?: AreaMatch;
  /** Bindings made through the Huawei API: its fields (record field 16). */
  huawei?: HuaweiFields;
}

/**
 * The request's deadline (deadline.ts). A write given one writes nothing once it has passed, so a
 * request answered isp.SYSTEM_ERROR / 503 at its deadline changed nothing. Without one, each
 * operation gets its own (STORE_DEADLINE_MS since Redis last answered it).
 */
export interface StoreCallOptions {
  deadline?: Deadline;
}

export interface BindingStore {
  // pools and number inventory
  upsertPool(poolKey: string, settings: PoolSettings, opts?: StoreCallOptions): Promise<void>;
  getPool(poolKey: string, opts?: StoreCallOptions): Promise<PoolInfo | undefined>;
  listPools(): Promise<string[]>;
  /** Adds X numbers to a pool; a number already in another pool is reported as a conflict. */
  addNumbers(poolKey: string, numbers: NumberEntry[], opts?: StoreCallOptions): Promise<{ added: number; existing: number; conflicts: string[] }>;
  /** Operator inventory not yet in any pool (BuySecretNo draws from it). */
  addInventory(numbers: NumberEntry[], opts?: StoreCallOptions): Promise<{ added: number; existing: number; conflicts: string[] }>;
  /** BuySecretNo: move one inventory number of `city` (optional number prefix) into the pool. */
  buyNumber(poolKey: string, city: string, prefix?: string, opts?: StoreCallOptions): Promise<NumberEntry>;
  /** ReleaseSecretNo: back to inventory; refused while X has live bindings. */
  releaseNumber(poolKey: string, x: string, opts?: StoreCallOptions): Promise<void>;
  /** QuerySecretNoRemain: inventory numbers available in a city (optionally with a prefix). */
  countInventory(city: string, prefix?: string): Promise<number>;
  /**
   * Cities that have (or had) inventory numbers: QuerySecretNoRemain City=全国 (nationwide total)
   * and 全国列表 (per city). A hint set: a city whose numbers were all bought may remain, answering 0.
   */
  inventoryCities(): Promise<string[]>;

  // bindings
  /**
   * A new binding. With `opts.nonce` (only when `bindClaimsNonce`), the bind script also claims
   * the request's SignatureNonce in the same round trip: a used nonce throws NonceReplayError and
   * writes nothing; `nonce.claimed` tells the caller whether a script ran (false: the bind failed
   * before reaching Redis, and the nonce is still the caller's to claim).
   */
  bind(req: BindRequest, opts?: StoreCallOptions & { nonce?: NonceClaim }): Promise<Binding>;
  /** true when bind() can claim a nonce in its own script (one Redis: not on a Cluster, where the nonce key lives in another slot). */
  readonly bindClaimsNonce: boolean;
  unbind(poolKey: string, x: string, subsId: string, opts?: StoreCallOptions): Promise<void>;
  update(poolKey: string, x: string, subsId: string, patch: BindingPatch, opts?: StoreCallOptions): Promise<Binding>;
  get(poolKey: string, x: string, subsId: string): Promise<Binding | undefined>;
  /**
   * QuerySubsId: the live binding on X where `number` is A or B. Without `number` (Alibaba's
   * QuerySubsId sends only PoolKey + PhoneNoX): X's live binding when X has exactly one (AXN, AX),
   * else undefined.
   */
  findSubsId(poolKey: string, x: string, number?: string): Promise<string | undefined>;
  /**
   * The SIP side's question, in one Redis round trip: caller C dialled X (with extension E) —
   * which binding, if any? Expired bindings are never returned.
   */
  lookup(caller: string, x: string, extension?: string): Promise<Lookup>;
  /** Reclaims expired bindings in bounded batches; returns how many were removed. */
  sweep(): Promise<number>;

  /**
   * Replay protection of both API dialects: SET key NX EX ttlSeconds, across every xline instance;
   * true when the nonce was unused (now claimed), false when already used. A claim that reaches
   * Redis after its deadline claims nothing. Runs on every API request, so it goes through the
   * autopipelined connection.
   */
  claimNonce(key: string, ttlSeconds: number, opts?: StoreCallOptions): Promise<boolean>;

  /** Where requests failed for want of storage report, instead of logging each (outage-log.ts). */
  readonly outage: StorageOutageLog;

  /** true when Redis answers a PING within the timeout. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** A SignatureNonce for bind() to claim (key as for claimNonce). */
export interface NonceClaim {
  key: string;
  ttlSeconds: number;
  /** Set by the store once a script carrying the claim has run. */
  claimed?: boolean;
}

/** bind() with a nonce that was already used: nothing was written. */
export class NonceReplayError extends Error {
  constructor() {
    super('signature nonce already used');
    this.name = 'NonceReplayError';
  }
}
