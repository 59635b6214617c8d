// Input checks of the store's operations: what every caller (dypls actions, Huawei interfaces,
// ops routes) may send is refused here with an Alibaba code before anything reaches Redis.
import type { HuaweiPatch, TempCallee } from '../domain/binding.js';
import { MODES } from '../domain/binding.js';
import { xlineError } from '../domain/errors.js';
import { hasControlChars, isExtension, isStoreNumber } from './codec.js';
import type { BindRequest, NumberEntry } from './types.js';

/** Longest free text field (OutId, city, a Huawei text field). */
const MAX_TEXT = 256;

export function checkPoolKey(poolKey: string) {
  if (typeof poolKey !== 'string' || !/^[^\s\x00-\x1f]{1,64}$/.test(poolKey)) {
    throw xlineError('ILLEGAL_ARGUMENT', 'PoolKey must be 1-64 printable characters without spaces');
  }
}

export function checkText(name: string, v: string | undefined, required = false) {
  if (v === undefined || v === '') {
    if (required) throw xlineError('ILLEGAL_ARGUMENT', `${name} is required`);
    return;
  }
  if (typeof v !== 'string' || v.length > MAX_TEXT || hasControlChars(v)) {
    throw xlineError('ILLEGAL_ARGUMENT', `${name} must be at most ${MAX_TEXT} printable characters`);
  }
}

export function checkEntries(numbers: NumberEntry[]): NumberEntry[] {
  if (!Array.isArray(numbers)) throw xlineError('ILLEGAL_ARGUMENT', 'numbers must be a list');
  const bad = numbers.filter((n) => !n || !isStoreNumber(n.number));
  if (bad.length) throw xlineError('MOBILE_NUMBER_ILLEGAL', `not valid numbers: ${bad.map((n) => String(n?.number)).slice(0, 5).join(', ')}`);
  for (const n of numbers) checkText('city', n.city, true);
  const seen = new Map<string, NumberEntry>();
  for (const n of numbers) {
    if (n.areaCode !== undefined && n.areaCode !== '' && !/^\d{2,8}$/.test(n.areaCode)) throw xlineError('ILLEGAL_ARGUMENT', `areaCode must be 2-8 digits: ${String(n.areaCode)}`);
    if (!seen.has(n.number)) seen.set(n.number, { number: n.number, city: n.city, ...(n.areaCode ? { areaCode: n.areaCode } : {}) });
  }
  return [...seen.values()];
}

export function checkBind(req: BindRequest) {
  if (!(MODES as readonly string[]).includes(req.mode)) throw xlineError('ILLEGAL_ARGUMENT', 'unknown binding mode');
  if (!isStoreNumber(req.a)) throw xlineError('MOBILE_NUMBER_ILLEGAL', 'PhoneNoA is not a valid number');
  if (req.mode === 'AXB') {
    if (!isStoreNumber(req.b)) throw xlineError('MOBILE_NUMBER_ILLEGAL', 'PhoneNoB is not a valid number');
    if (req.b === req.a) throw xlineError('ILLEGAL_ARGUMENT', 'PhoneNoA and PhoneNoB must differ');
  } else if (req.b !== undefined && req.b !== '') {
    if (req.mode === 'AX') throw xlineError('ILLEGAL_ARGUMENT', 'an AX binding has no B');
    if (!isStoreNumber(req.b)) throw xlineError('MOBILE_NUMBER_ILLEGAL', 'PhoneNoB is not a valid number');
  }
  if (req.x !== undefined && req.x !== '' && !isStoreNumber(req.x)) throw xlineError('NO_NOT_EXIST', 'PhoneNoX is not a valid number');
  if (req.extension !== undefined && req.extension !== '') {
    if (req.mode !== 'AXE') throw xlineError('ILLEGAL_ARGUMENT', 'Extension is only for AXN extension bindings');
    if (!isExtension(req.extension)) throw xlineError('ILLEGAL_ARGUMENT', 'Extension must be 1-4 digits');
  }
  if (!Number.isSafeInteger(req.expiresAt) || req.expiresAt <= 0) throw xlineError('EXPIRE_DATE_ILLEGAL', 'bad expiration');
  if (!Number.isInteger(req.callDisplayType)) throw xlineError('ILLEGAL_ARGUMENT', 'bad CallDisplayType');
  checkText('OutId', req.outId);
  checkText('OutOrderId', req.outOrderId);
  checkText('ExpectCity', req.expectCity);
  checkText('ASRModelId', req.asrModelId);
  if (req.areaCode !== undefined && !/^\d{2,8}$/.test(req.areaCode)) throw xlineError('ILLEGAL_ARGUMENT', 'areaCode must be 2-8 digits');
  if (req.huawei) {
    checkText('appKey', req.huawei.appKey, true);
    checkHuawei(req.huawei);
  }
}

/** Huawei fields go into the record as given: printable text, numbers as non-negative integers. */
export function checkHuawei(h: HuaweiPatch): void {
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || v === null) continue;
    if (k === 'tempCallee') {
      const t = v as TempCallee;
      if (!isStoreNumber(t.number)) throw xlineError('MOBILE_NUMBER_ILLEGAL', 'the temporary callee is not a valid number');
      if (!Number.isSafeInteger(t.expiresAt)) throw xlineError('ILLEGAL_ARGUMENT', 'bad temporary callee expiry');
      checkText('userData', t.userData);
    } else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v) || v < 0) throw xlineError('ILLEGAL_ARGUMENT', `${k} must be a non-negative integer`);
    } else if (typeof v !== 'boolean') checkText(k, v as string);
  }
}
