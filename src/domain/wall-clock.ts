// Alibaba's wall-clock times ('YYYY-MM-DD HH:mm:ss' in the configured zone: the API's Expiration,
// ExpireDate, GmtCreate and the CDR's call/ring/release times) and POP's ISO 8601 UTC Timestamp.
// Pure; zone offsets are cached per quarter hour because Intl is slow and every bind parses one
// Expiration and every call formats four report times.

const WALL = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z$/;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, number>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Offset of `zone` from UTC, in seconds, at unix second `t`. */
export function zoneOffset(zone: string, t: number): number {
  // Offsets change on quarter hours in every real zone (Lord Howe's DST starts at 15:30 UTC);
  // cache per (zone, quarter hour).
  const key = zone + '|' + Math.floor(t / 900);
  const hit = offsetCache.get(key);
  if (hit !== undefined) return hit;
  const parts = formatter(zone).formatToParts(new Date(t * 1000));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) / 1000;
  const off = asUtc - t;
  if (offsetCache.size > 10_000) offsetCache.clear();
  offsetCache.set(key, off);
  return off;
}

/**
 * 'YYYY-MM-DD HH:mm:ss' in `zone` → unix seconds, or undefined when it is not that format or not
 * a real date (2024-02-30, 25:00:00).
 */
// Clients send the same Expiration (and, within a second, the same Timestamp) request after
// request: remember the last answer of each parser.
let lastWall = { s: '', zone: '', t: undefined as number | undefined };
let lastIso = { s: '', t: undefined as number | undefined };

export function parseWallClock(s: string, zone: string): number | undefined {
  if (s === lastWall.s && zone === lastWall.zone) return lastWall.t;
  const t = parseWallClockUncached(s, zone);
  lastWall = { s, zone, t };
  return t;
}

function parseWallClockUncached(s: string, zone: string): number | undefined {
  const m = WALL.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return undefined;
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, se) / 1000;
  if (new Date(asUtc * 1000).getUTCDate() !== d) return undefined; // 31 April and friends
  // Two passes settle the offset across a DST change.
  let t = asUtc - zoneOffset(zone, asUtc);
  t = asUtc - zoneOffset(zone, t);
  return t;
}

/** unix seconds → 'YYYY-MM-DD HH:mm:ss' in `zone`. */
export function formatWallClock(t: number, zone: string): string {
  const d = new Date((t + zoneOffset(zone, t)) * 1000);
  const p = (v: number) => (v < 10 ? '0' + v : String(v));
  return (
    `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`
  );
}

/** CDR report times (call/ring/answer/release): unix ms → 'YYYY-MM-DD HH:mm:ss' in `zone`. */
export function reportTime(ms: number, zone: string): string {
  return formatWallClock(Math.floor(ms / 1000), zone);
}

/** POP Timestamp 'YYYY-MM-DDTHH:mm:ssZ' (fraction allowed) → unix ms, or undefined. */
export function parsePopTimestamp(s: string): number | undefined {
  if (s === lastIso.s) return lastIso.t;
  const t = parsePopTimestampUncached(s);
  lastIso = { s, t };
  return t;
}

function parsePopTimestampUncached(s: string): number | undefined {
  const m = ISO.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return undefined;
  // Date.UTC rolls 2026-02-31 over into March: a day the month does not have is no date at all.
  if (new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, se);
}
