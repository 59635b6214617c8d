// Key schema, SubsId format and the packed binding record. Pure: no I/O, unit-tested.
//
// Keys of one X share the hash tag {X}, so every per-X Lua script touches one Cluster slot:
//   x:{X}  hash  the X's meta, source of truth for ownership:
//                p = pool key (absent: in inventory), c = city, m = mode of its live bindings,
//                s = SubsId sequence (never reset, so a SubsId is never reused),
//                e = extension allocation cursor (AXE), d = due hint published to the sweep index
//   b:{X}  hash  seq -> packed binding record (below)
//   n:{X}  hash  number -> seq (A always, B too in AXB), "#ext" -> seq (AXE)
//   z:{X}  zset  seq scored by expiresAt: live count and per-X sweep in O(log n)
// Indexes in other slots are hints that every reader re-checks against x:{X}:
//   pool:{P} hash pool settings;  pn:{P} hash X -> poolHint (numbers of the pool);  pools set
//   inv:{city} zset (score 0, lex order) inventory numbers of a city;  invc set of inventory cities
//   due:{N} zset X scored by its earliest expiry (N = shard of X), drives the sweep
import type { Binding, CallRestrict, HuaweiFields, Mode, RingConfig } from '../domain/binding.js';
import { MODES } from '../domain/binding.js';

export const xKeys = (x: string): [string, string, string, string] => [`x:{${x}}`, `b:{${x}}`, `n:{${x}}`, `z:{${x}}`];
export const poolKeyOf = (p: string) => `pool:{${p}}`;
export const poolNumbersKey = (p: string) => `pn:{${p}}`;
export const POOLS_KEY = 'pools';
export const inventoryKey = (city: string) => `inv:{${city}}`;
export const INVENTORY_CITIES_KEY = 'invc';
export const DUE_SHARDS = 16;
export const dueKey = (shard: number) => `due:{${shard}}`;

/** Spreads X over the sweep index shards (so one Cluster node does not take every ZADD). */
export function dueShard(x: string): number {
  let h = 0;
  for (let i = 0; i < x.length; i++) h = (h * 31 + x.charCodeAt(i)) >>> 0;
  return h % DUE_SHARDS;
}

// SubsId = X + 9-digit per-X sequence: the id alone names its X (no scan, no cross-slot index).
const SEQ_WIDTH = 9;
export const MAX_SEQ = 10 ** SEQ_WIDTH - 1;
const SUBS_RE = new RegExp(`^(\\+?\\d{3,20})(\\d{${SEQ_WIDTH}})$`);

export function formatSubsId(x: string, seq: number | string): string {
  return x + String(seq).padStart(SEQ_WIDTH, '0');
}

export function parseSubsId(subsId: string): { x: string; seq: string } | undefined {
  if (typeof subsId !== 'string') return undefined;
  const m = SUBS_RE.exec(subsId);
  if (!m) return undefined;
  const seq = String(Number(m[2]));
  if (seq === '0') return undefined;
  return { x: m[1]!, seq };
}

/** The SubsId's X and sequence when it names X (any X when `x` is empty), else undefined. */
export function subsIdOnX(x: string, subsId: string): { x: string; seq: string } | undefined {
  const p = parseSubsId(subsId);
  if (!p || (x && x !== p.x)) return undefined;
  return p;
}

/** Numbers as the store keeps them (already canonical): digits with an optional leading '+'. */
export const isStoreNumber = (n: unknown): n is string => typeof n === 'string' && /^\+?\d{3,20}$/.test(n);
export const isExtension = (e: unknown): e is string => typeof e === 'string' && /^\d{1,4}$/.test(e);

// The record: fields joined by US (0x1f). Lua reads fields 1–5 (mode, a, b, ext, expiresAt) and
// rewrites single fields on update; free text may not contain control characters.
export const SEP = '\x1f';
export const RECORD_FIELD = {
  mode: 1,
  a: 2,
  b: 3,
  ext: 4,
  exp: 5,
  created: 6,
  recording: 7,
  display: 8,
  restrict: 9,
  outId: 10,
  outOrderId: 11,
  expectCity: 12,
  asr: 13,
  asrModel: 14,
  ring: 15,
  /** HuaweiFields as JSON (update.lua merges a patch into it rather than replacing it). */
  huawei: 16,
} as const;

/** The pool index value of X (pn:{P}): its city, and its area code after US when it has one. */
export function poolHint(city: string, areaCode?: string): string {
  return areaCode ? city + SEP + areaCode : city;
}

const RESTRICT_CODE: Record<CallRestrict, string> = { CONTROL_AX_DISABLE: 'A', CONTROL_BX_DISABLE: 'B' };
const RESTRICT_OF: Record<string, CallRestrict> = { A: 'CONTROL_AX_DISABLE', B: 'CONTROL_BX_DISABLE' };

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;
export const hasControlChars = (s: string) => CONTROL.test(s);

export interface TailFields {
  recording: boolean;
  callDisplayType: number;
  callRestrict?: CallRestrict;
  outId?: string;
  outOrderId?: string;
  expectCity?: string;
  asrStatus?: boolean;
  asrModelId?: string;
  ringConfig?: RingConfig;
  huawei?: HuaweiFields;
}

export const encodeRestrict = (r: CallRestrict | undefined) => (r ? RESTRICT_CODE[r] : '');
export const encodeRing = (r: RingConfig | undefined) => (r && Object.keys(r).length ? JSON.stringify(r) : '');
export const encodeAsr = (v: boolean | undefined) => (v === undefined ? '' : v ? '1' : '0');

/** Fields 7.. of the record; trailing empty fields are dropped (Lua reads absent as ''). */
export function packTail(t: TailFields): string {
  const fields = [
    t.recording ? '1' : '',
    t.callDisplayType === 1 ? '' : String(t.callDisplayType),
    encodeRestrict(t.callRestrict),
    t.outId ?? '',
    t.outOrderId ?? '',
    t.expectCity ?? '',
    encodeAsr(t.asrStatus),
    t.asrModelId ?? '',
    encodeRing(t.ringConfig),
    t.huawei ? JSON.stringify(t.huawei) : '',
  ];
  while (fields.length && fields[fields.length - 1] === '') fields.pop();
  return fields.join(SEP);
}

export function unpackRecord(raw: string, x: string, seq: string, poolKey: string): Binding {
  const fields = raw.split(SEP);
  const field = (i: number) => fields[i - 1] ?? '';
  const mode = field(RECORD_FIELD.mode) as Mode;
  if (!(MODES as readonly string[]).includes(mode)) throw new Error(`corrupt binding record on ${x}/${seq}`);
  const binding: Binding = {
    subsId: formatSubsId(x, seq),
    mode,
    poolKey,
    x,
    a: field(RECORD_FIELD.a),
    expiresAt: Number(field(RECORD_FIELD.exp)),
    createdAt: Number(field(RECORD_FIELD.created)),
    recording: field(RECORD_FIELD.recording) === '1',
    callDisplayType: field(RECORD_FIELD.display) === '' ? 1 : Number(field(RECORD_FIELD.display)),
  };
  const setIfPresent = <Key extends keyof Binding>(key: Key, v: Binding[Key] | undefined | '') => {
    if (v !== undefined && v !== '') binding[key] = v as Binding[Key];
  };
  setIfPresent('b', field(RECORD_FIELD.b));
  setIfPresent('extension', field(RECORD_FIELD.ext));
  setIfPresent('callRestrict', RESTRICT_OF[field(RECORD_FIELD.restrict)]);
  setIfPresent('outId', field(RECORD_FIELD.outId));
  setIfPresent('outOrderId', field(RECORD_FIELD.outOrderId));
  setIfPresent('expectCity', field(RECORD_FIELD.expectCity));
  const asr = field(RECORD_FIELD.asr);
  if (asr !== '') binding.asrStatus = asr === '1';
  setIfPresent('asrModelId', field(RECORD_FIELD.asrModel));
  const ring = field(RECORD_FIELD.ring);
  if (ring !== '') binding.ringConfig = JSON.parse(ring) as RingConfig;
  const hw = field(RECORD_FIELD.huawei);
  if (hw !== '') binding.huawei = JSON.parse(hw) as HuaweiFields;
  return binding;
}

/** An AXE callback record as lookup.lua answers it: last caller US expiry (unix s; 0: while the binding lives). */
export function unpackCallback(raw: string): { number: string; expiresAt: number } {
  const [number = '', exp = '0'] = raw.split(SEP);
  return { number, expiresAt: Number(exp) || 0 };
}
