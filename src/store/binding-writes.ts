// Writing bindings: bind (picking X among the pool's numbers, or the X asked for), update and
// unbind, each one guarded script on X's keys (lua/bind.lua, update.lua, unbind.lua) whose answer
// is mapped to Alibaba's codes here.
// The due index: when a bind or an update lowers X's due hint (x:{X}.d), this ZADDs LT into the
// sweep's due index. A crash in between leaves bindings the sweep will not find until reconcile()
// republishes x:{X}.d (maintenance.ts); they never route after expiry regardless (scripts check TIME).
import type { Binding, BindingPatch } from '../domain/binding.js';
import { xlineError } from '../domain/errors.js';
import { RECORD_FIELD, SEP, dueKey, dueShard, encodeAsr, encodeRestrict, encodeRing, isStoreNumber, packTail, subsIdOnX, unpackRecord, xKeys } from './codec.js';
import { Deadline } from './deadline.js';
import { checkBind, checkHuawei, checkText } from './input-checks.js';
import { areaLists, candidateLists, type PoolState, type PoolStore } from './pool-store.js';
import { late, type Reply, type ScriptRunner } from './script-runner.js';
import { NonceReplayError, type BindRequest, type NonceClaim, type StoreCallOptions } from './types.js';

/** A try of one X that did not bind: X is not the pool's (stale hint), or its bindings conflict. */
type Refusal = { refused: 'NOPOOL' | 'CONFLICT'; rule: string };

export class BindingWrites {
  constructor(
    private readonly run: ScriptRunner,
    private readonly pools: PoolStore,
    /** Upper bound of candidate X numbers tried by one bind. */
    private readonly maxBindTries: number,
  ) {}

  /**
   * A new binding on the X asked for, or on the first of the pool's candidates (candidateLists /
   * areaLists, each list from a random start) that takes it. With `opts.nonce` (standalone Redis
   * only) the first script run also claims the request's SignatureNonce.
   */
  async bind(req: BindRequest, opts: StoreCallOptions & { nonce?: NonceClaim } = {}): Promise<Binding> {
    checkBind(req);
    // a caller's deadline is fixed; our own is renewed for each X tried (ScriptRunner.writeBy)
    const dl = opts.deadline ?? new Deadline(true);
    // the first script run claims the nonce (and refuses a replay); later tries on other X do not
    let nonce = this.run.isCluster ? undefined : opts.nonce;
    // hot path: a cached, fresh pool costs no await
    const pool = this.pools.cachedFresh(req.poolKey) ?? (await this.pools.require(req.poolKey));
    const tail = packTail(req);
    const packed = [req.poolKey, req.mode, req.a, req.b ?? '', req.extension ?? '', req.expiresAt, tail].join(SEP);

    const attempt = (x: string): Promise<Binding | Refusal> => {
      const claim = nonce;
      nonce = undefined;
      return this.bindOn(x, req, dl, packed, tail, claim);
    };

    if (req.x) {
      const r = await attempt(req.x);
      if (!('refused' in r)) return r;
      if (r.refused === 'NOPOOL') throw xlineError('NO_NOT_EXIST', `PhoneNoX is not a number of pool ${req.poolKey}`);
      throw xlineError('BIND_CONFLICT', 'the requested X already has a conflicting binding', r.rule);
    }
    let tries = 0;
    let sawStale = false;
    // plain loops, no generator: this is the hot path of BindAxb
    search: for (const l of req.areaCode ? areaLists(pool, req.areaCode, req.areaMatch ?? 'strict') : candidateLists(pool, req.expectCity)) {
      const start = Math.floor(Math.random() * l.length);
      for (let i = 0; i < l.length; i++) {
        if (++tries > this.maxBindTries) break search;
        const r = await attempt(l[(start + i) % l.length]!);
        if (!('refused' in r)) return r;
        if (r.refused === 'NOPOOL') sawStale = true;
      }
    }
    if (sawStale) this.pools.forget(req.poolKey);
    throw noNumberFor(req, pool);
  }

  /** One try of bind on X: the binding, or why X did not take it. */
  private async bindOn(x: string, req: BindRequest, dl: Deadline, packed: string, tail: string, claim: NonceClaim | undefined): Promise<Binding | Refusal> {
    const by = this.run.writeBy(dl);
    // past the last moment to write: not even sent (a search over many full X ends here)
    if (Date.now() > by) throw this.run.failure('bind', late('bind'));
    const r = await (claim ? this.bindClaiming(x, by, packed, claim) : this.run.perX('bind', x, by, packed)).catch((e: unknown) => Promise.reject(this.run.failure('bind', e)));
    // LATE: Redis ran it after the deadline and wrote nothing, the nonce included
    if (r[0] === 'LATE') throw this.run.failure('bind', late('bind'));
    if (claim) claim.claimed = true;
    if (r[0] === 'REPLAY') throw new NonceReplayError();
    if (r[0] === 'OK') {
      const [, seq, ext, now, publish] = r;
      if (Number(publish) === 1) this.publishDue(x, req.expiresAt);
      const raw = [req.mode, req.a, req.b ?? '', ext, req.expiresAt, now].join(SEP) + (tail ? SEP + tail : '');
      return unpackRecord(raw, x, String(seq), req.poolKey);
    }
    if (r[0] === 'EXPIRED') throw xlineError('EXPIRE_DATE_ILLEGAL', 'expiration must be in the future');
    return { refused: r[0] as 'NOPOOL' | 'CONFLICT', rule: r[0] === 'CONFLICT' ? String(r[1]) : '' };
  }

  /** bind.lua with the request's SignatureNonce claimed first (KEYS[5]; scripts.ts `bindNonce`). */
  private bindClaiming(x: string, writeBy: number, packed: string, claim: NonceClaim): Promise<Reply> {
    return this.run.command('bindNonce', ...xKeys(x), `nonce:${claim.key}`, writeBy, packed, Math.max(1, Math.ceil(claim.ttlSeconds)));
  }

  async unbind(poolKey: string, x: string, subsId: string, opts: StoreCallOptions = {}): Promise<void> {
    const p = subsIdOnX(x, subsId);
    if (!p) throw xlineError('SUBS_NOT_EXIST', 'no such subscription');
    const dl = opts.deadline ?? new Deadline();
    const [st] = await this.run.guard('unbind', () => this.run.writePerX('unbind', p.x, dl, poolKey, p.seq));
    if (st === 'NOPOOL') await this.noPool(poolKey);
    if (st !== 'OK') throw xlineError('SUBS_NOT_EXIST', 'no such subscription');
  }

  async update(poolKey: string, x: string, subsId: string, patch: BindingPatch, opts: StoreCallOptions = {}): Promise<Binding> {
    const p = subsIdOnX(x, subsId);
    if (!p) throw xlineError('SUBS_NOT_EXIST', 'no such subscription');
    const dl = opts.deadline ?? new Deadline();
    const pairs = patchedFields(patch);
    const nb = patch.b === undefined ? '' : patch.b === '' ? '-' : patch.b;
    const r = await this.run.guard('update', () => this.run.writePerX('update', p.x, dl, poolKey, p.seq, patch.a ?? '', nb, patch.expiresAt ?? '', ...pairs));
    switch (r[0]) {
      case 'OK':
        if (Number(r[2]) === 1 && patch.expiresAt !== undefined) this.publishDue(p.x, patch.expiresAt);
        return unpackRecord(String(r[1]), p.x, p.seq, poolKey);
      case 'NOPOOL':
        return this.noPool(poolKey);
      case 'EXPIRED':
        throw xlineError('EXPIRE_DATE_ILLEGAL', 'expiration must be in the future');
      case 'CONFLICT':
        throw xlineError(
          'UPDATE_CONFLICT',
          r[1] === 'same' ? 'A and B of an AXB binding must be two different numbers' : `the new number is already bound on this X`,
        );
      default:
        throw xlineError('SUBS_NOT_EXIST', 'no such subscription');
    }
  }

  /** Tells the sweep index that X has a binding expiring at `at` (ZADD LT keeps the earliest). */
  private publishDue(x: string, at: number): void {
    // the binding stands; reconcile() republishes x:{X}.d
    this.run.redis.zadd(dueKey(dueShard(x)), 'LT', at, x).catch((e: unknown) => this.run.hintFailed('publishDue', e));
  }

  /** A NOPOOL answer: the pool does not exist, or X is not one of its numbers. */
  private async noPool(poolKey: string): Promise<never> {
    await this.pools.require(poolKey, true);
    throw xlineError('NO_NOT_EXIST', `number not in pool ${poolKey}`);
  }
}

/** Why no X of the pool took the binding: the pool has none of that area code or city, or all refused. */
function noNumberFor(req: BindRequest, pool: PoolState): Error {
  if (req.areaCode && (req.areaMatch ?? 'strict') === 'strict' && !pool.byArea.get(req.areaCode)?.length) {
    return xlineError('NO_AVAILABLE_NUMBER', `pool ${req.poolKey} has no number of area code ${req.areaCode}`);
  }
  if (req.expectCity && pool.settings.strictCity && !pool.byCity.get(req.expectCity)?.length) {
    return xlineError('NO_AVAILABLE_NUMBER', `pool ${req.poolKey} has no number in ${req.expectCity}`);
  }
  return xlineError('NO_AVAILABLE_NUMBER', `no number of pool ${req.poolKey} can take this binding`);
}

/** update.lua's field/value pairs for the record fields a patch sets (after checking them). */
function patchedFields(patch: BindingPatch): (string | number)[] {
  const pairs: (string | number)[] = [];
  if (patch.a !== undefined && !isStoreNumber(patch.a)) throw xlineError('MOBILE_NUMBER_ILLEGAL', 'PhoneNoA is not a valid number');
  if (patch.b !== undefined && patch.b !== '' && !isStoreNumber(patch.b)) throw xlineError('MOBILE_NUMBER_ILLEGAL', 'PhoneNoB is not a valid number');
  if (patch.expiresAt !== undefined && !Number.isSafeInteger(patch.expiresAt)) throw xlineError('EXPIRE_DATE_ILLEGAL', 'bad expiration');
  if (patch.clearCallRestrict) pairs.push(RECORD_FIELD.restrict, '');
  else if (patch.callRestrict !== undefined) pairs.push(RECORD_FIELD.restrict, encodeRestrict(patch.callRestrict));
  if (patch.callDisplayType !== undefined) {
    if (!Number.isInteger(patch.callDisplayType)) throw xlineError('ILLEGAL_ARGUMENT', 'bad CallDisplayType');
    pairs.push(RECORD_FIELD.display, patch.callDisplayType === 1 ? '' : String(patch.callDisplayType));
  }
  if (patch.outId !== undefined) {
    checkText('OutId', patch.outId);
    pairs.push(RECORD_FIELD.outId, patch.outId);
  }
  if (patch.recording !== undefined) pairs.push(RECORD_FIELD.recording, patch.recording ? '1' : '');
  if (patch.asrStatus !== undefined) pairs.push(RECORD_FIELD.asr, encodeAsr(patch.asrStatus));
  if (patch.asrModelId !== undefined) {
    checkText('ASRModelId', patch.asrModelId);
    pairs.push(RECORD_FIELD.asrModel, patch.asrModelId);
  }
  if (patch.ringConfig !== undefined) pairs.push(RECORD_FIELD.ring, encodeRing(patch.ringConfig));
  if (patch.huawei !== undefined) {
    checkHuawei(patch.huawei);
    pairs.push(RECORD_FIELD.huawei, JSON.stringify(patch.huawei));
  }
  return pairs;
}
