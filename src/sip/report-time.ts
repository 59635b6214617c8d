// CDR report times: Alibaba's 'YYYY-MM-DD HH:mm:ss' wall clock in the configured zone.
import { formatWallClock } from '../domain/wall-clock.js';

export function reportTime(ms: number, timeZone: string): string {
  return formatWallClock(Math.floor(ms / 1000), timeZone);
}
