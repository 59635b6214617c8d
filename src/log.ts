// pino, JSON. Real numbers are masked in every log line (privacy is the product): log them only
// under the field names below, and the censor masks them whatever the level.
import { pino, type Logger } from 'pino';
import { maskNumber } from './domain/numbers.js';

export const NUMBER_FIELDS = ['a', 'b', 'caller', 'callee', 'target', 'from', 'to', 'number', 'phoneNo', 'peerNo', 'phoneNoA', 'phoneNoB'];

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'xline', ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [...NUMBER_FIELDS, ...NUMBER_FIELDS.map((f) => `*.${f}`)],
      censor: (value) => (typeof value === 'string' ? maskNumber(value) : value),
    },
  });
}

export type { Logger };
