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
      redact: {
        paths: [...NUMBER_FIELDS, ...NUMBER_FIELDS.map((f) => `*.${f}`)],
        censor: (value) => (typeof value === 'string' ? maskNumber(value) : value),
      },
    },
    dest,
  );
}

export type { Logger };
