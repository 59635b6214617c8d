// Alibaba report times: 'YYYY-MM-DD HH:mm:ss' wall clock in the configured zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Several report times per call fall in the same second: keep the last one formatted. */
let last = { second: NaN, timeZone: '', text: '' };

export function reportTime(ms: number, timeZone: string): string {
  const second = Math.floor(ms / 1000);
  if (second === last.second && timeZone === last.timeZone) return last.text;
  const text = format(second * 1000, timeZone);
  last = { second, timeZone, text };
  return text;
}

function format(ms: number, timeZone: string): string {
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
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}
