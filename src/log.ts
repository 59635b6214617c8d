// pino, JSON. Real numbers are masked in every log line (privacy is the product): log them only
// under the field names below, and the censor masks them whatever the level.
import { pino, type DestinationStream, type Logger } from 'pino';
import { maskNumber } from './domain/numbers.js';

export const NUMBER_FIELDS = ['a', 'b', 'caller', 'callee', 'target', 'from', 'to', 'number', 'phoneNo', 'peerNo', 'phoneNoA', 'phoneNoB'];

/**
 * Where lines go: stdout unless told (benchmarks pass '/dev/null' to measure the same path).
 * Synchronous writes: one write(2) per line costs less than handing each line to libuv's thread
 * pool (pino's default), never loses the last lines before a crash, and at info level xline
 * writes about one line per call.
 */
export function logDestination(dest: string | number = 1): DestinationStream {
  return pino.destination({ dest, sync: true });
}

export function createLogger(level: string, base: Record<string, unknown> = {}, dest: DestinationStream = logDestination()): Logger {
  return pino(
    {
      level,
      base: { service: 'xline', ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Masking by serializers (a line's fields and child loggers' bindings) and a formatter (one
      // level down), not pino's `redact`: pino 10's redact parses its paths again on every line,
      // about a tenth of all the SIP side allocated (bench sip with BENCH_SIP_HEAPPROF).
      serializers: { ...Object.fromEntries(NUMBER_FIELDS.map((f) => [f, maskValue])), err: serializeError },
      formatters: { log: maskNumberFields },
    },
    dest,
  );
}

const maskValue = (v: unknown) => (typeof v === 'string' ? maskNumber(v) : v);

/**
 * An error as pino shows it (type, message and stack with their causes) with its scalar fields
 * (status, code, reason), but none of the objects errors carry along: drachtio's SipError holds
 * the whole SIP response (`res`, B's number in its To and Request-URI), ioredis errors the command
 * with its arguments. A scalar under a number field name is masked.
 */
export function serializeError(err: unknown): unknown {
  const s = pino.stdSerializers.err(err as Error) as unknown;
  if (s === err || s === null || typeof s !== 'object') return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'aggregateErrors' && Array.isArray(v)) out[k] = v.map((e: unknown) => serializeError(e));
    else if (v === null || typeof v !== 'object') out[k] = NUMBER_FIELD.has(k) ? maskValue(v) : v;
  }
  return out;
}

const NUMBER_FIELD = new Set(NUMBER_FIELDS);

const isPlain = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null || Array.isArray(v);
};

/**
 * `o` with every string under a NUMBER_FIELDS name one level down masked (`{ binding: { a } }`;
 * the top level is the serializers' job): a copy when something was masked, `o` itself otherwise
 * (never changed).
 */
export function maskNumberFields(o: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const k in o) {
    const v = o[k];
    if (!isPlain(v)) continue;
    let inner: Record<string, unknown> | undefined;
    for (const f in v) {
      const x = v[f];
      if (typeof x === 'string' && NUMBER_FIELD.has(f)) {
        inner ??= (Array.isArray(v) ? [...v] : { ...v }) as Record<string, unknown>;
        inner[f] = maskNumber(x);
      }
    }
    if (inner) {
      out ??= { ...o };
      out[k] = inner;
    }
  }
  return out ?? o;
}

export type { Logger };
