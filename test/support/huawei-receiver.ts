// A Huawei app's callback receiver as a customer runs one (HUAWEI.md §5, §5b): node:http on
// 127.0.0.1 taking POSTs at /status (call events) and /fee (CDRs), checking each one's X-AKSK
// signature with the app's secret as HUAWEI.md §1 computes it — written here from the contract,
// sharing no code with xline's signing — and answering as the test says (default 200, empty body).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HwCallback {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: { eventType: string; statusInfo?: Record<string, unknown>; feeLst?: Array<Record<string, unknown>> };
  /** The X-AKSK signature checked against the secret the receiver holds when it arrived. */
  signedBy?: string;
  valid: boolean;
  at: number;
}

export interface HuaweiReceiver {
  url: string;
  got: HwCallback[];
  /** The app's key and secret as the customer knows them (change the secret when the app's changes). */
  appKey: string;
  secret: string;
  /** Status to answer; default 200 with an empty body. 'hang' never answers. */
  answer: (c: HwCallback, nthForSameBody: number) => number | 'hang';
  events(): HwCallback[];
  fees(): HwCallback[];
  waitFor(pred: () => boolean, timeoutMs: number, what?: string): Promise<void>;
  close(): Promise<void>;
  reopen(): Promise<void>;
}

/** `name="value"` attributes of a header, names lower-cased. */
function attrs(v: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of v.matchAll(/([A-Za-z]+)\s*=\s*"([^"]*)"/g)) out.set(m[1]!.toLowerCase(), m[2]!);
  return out;
}

/** HUAWEI.md §1: Authorization AKSK realm/profile/type, X-AKSK with Username, Nonce, Created (UTC, ±5 min), and PasswordDigest = Base64(HMAC-SHA256(secret, Nonce + Created)). */
export function verifyAksk(h: IncomingHttpHeaders, appKey: string, secret: string, nowMs = Date.now()): boolean {
  const auth = String(h.authorization ?? '');
  const a = attrs(auth);
  if (!/^AKSK\s/.test(auth) || a.get('realm') !== 'SDP' || a.get('profile') !== 'UsernameToken' || a.get('type') !== 'Appkey') return false;
  const token = String(h['x-aksk'] ?? '');
  if (!token.startsWith('UsernameToken ')) return false;
  const t = attrs(token);
  const nonce = t.get('nonce') ?? '';
  const created = t.get('created') ?? '';
  if (t.get('username') !== appKey || !/^[A-Za-z0-9]{1,128}$/.test(nonce)) return false;
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$/.exec(created);
  if (!m) return false;
  const createdMs = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (Math.abs(nowMs - createdMs) > 5 * 60_000) return false;
  const want = Buffer.from(createHmac('sha256', secret).update(nonce + created).digest('base64'));
  const got = Buffer.from(t.get('passworddigest') ?? '');
  return got.length === want.length && timingSafeEqual(got, want);
}

export async function startHuaweiReceiver(appKey: string, secret: string): Promise<HuaweiReceiver> {
  let server: Server | undefined;
  let port = 0;
  const seen = new Map<string, number>();
  const r: HuaweiReceiver = {
    url: '',
    got: [],
    appKey,
    secret,
    answer: () => 200,
    events: () => r.got.filter((c) => c.path === '/status'),
    fees: () => r.got.filter((c) => c.path === '/fee'),
    async waitFor(pred, timeoutMs, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (got ${r.got.map((c) => c.json.eventType).join(', ')})`);
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    async close() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((res) => s.close(() => res()));
    },
    reopen: () => listen(),
  };
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          let json: HwCallback['json'] = { eventType: '' };
          try {
            json = JSON.parse(body) as HwCallback['json'];
          } catch {
            /* recorded as is; the test's assertions say what was wrong */
          }
          const valid = req.method === 'POST' && verifyAksk(req.headers, r.appKey, r.secret);
          const c: HwCallback = { path: req.url ?? '', headers: req.headers, body, json, valid, ...(valid ? { signedBy: r.secret } : {}), at: Date.now() };
          r.got.push(c);
          const n = (seen.get(body) ?? 0) + 1;
          seen.set(body, n);
          const a = r.answer(c, n);
          if (a === 'hang') return;
          res.writeHead(a).end();
        });
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as AddressInfo).port;
        r.url = `http://127.0.0.1:${port}`;
        server = s;
        resolve();
      });
    });
  await listen();
  return r;
}
