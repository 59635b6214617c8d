// Alibaba report times: 'YYYY-MM-DD HH:mm:ss' wall clock in the configured zone.
// Four per call in the CDR: the zone's UTC offset is looked up once per quarter hour (zone
// transitions fall on quarter hours) and the rest is arithmetic, not Intl formatting.
const formatters = new Map<string, Intl.DateTimeFormat>();
const QUARTER_MS = 15 * 60 * 1000;
/** zone → the quarter hour last looked up and its offset (ms to add to UTC). */
const offsets = new Map<string, { quarter: number; offset: number }>();

export function reportTime(ms: number, timeZone: string): string {
  const quarter = Math.floor(ms / QUARTER_MS);
  let o = offsets.get(timeZone);
  if (!o || o.quarter !== quarter) {
    o = { quarter, offset: offsetAt(quarter * QUARTER_MS, timeZone) };
    offsets.set(timeZone, o);
  }
  const d = new Date(Math.floor(ms / 1000) * 1000 + o.offset);
  return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
}

const p2 = (n: number) => (n < 10 ? '0' + n : String(n));

/** The zone's offset from UTC at `ms` (whole seconds), from Intl. */
function offsetAt(ms: number, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - Math.floor(ms / 1000) * 1000;
}
