// Talking to a real xline process (test/support/xline-process.ts) over HTTP, as users do: signed
// dypls requests (POP v1, as Alibaba's SDKs sign them) and ops REST calls with the bearer token.
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import { sign } from '../../src/api/dypls/signature.js';

export interface HttpAnswer {
  status: number;
  body: any;
}

export interface XlineHttp {
  /** One signed dypls action (GET, as pop-core sends it by default). */
  dypls(action: string, params: Record<string, string>): Promise<HttpAnswer>;
  /** One ops REST call with the bearer token. */
  ops(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<HttpAnswer>;
}

export function xlineHttp(adminPort: number, o: { accessKeyId: string; accessKeySecret: string; opsToken: string }): XlineHttp {
  const base = `http://127.0.0.1:${adminPort}`;
  const answer = async (r: Response): Promise<HttpAnswer> => {
    const text = await r.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: r.status, body };
  };
  return {
    async dypls(action, params) {
      const all: Record<string, string> = {
        Action: action,
        Format: 'JSON',
        Version: '2017-05-25',
        AccessKeyId: o.accessKeyId,
        SignatureMethod: 'HMAC-SHA1',
        SignatureVersion: '1.0',
        SignatureNonce: randomUUID(),
        Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...params,
      };
      all.Signature = sign('GET', all, o.accessKeySecret);
      return answer(await fetch(`${base}/?${new URLSearchParams(all).toString()}`, { signal: AbortSignal.timeout(5000) }));
    },
    async ops(method, path, body) {
      const r = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${o.opsToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(5000),
      });
      return answer(r);
    },
  };
}

/** A pool holding the X numbers given, through the ops API. */
export async function makePoolVia(http: XlineHttp, poolKey: string, xs: string[]): Promise<void> {
  const p = await http.ops('PUT', `/v1/pools/${poolKey}`, { name: poolKey, strictCity: false });
  if (p.status !== 200) throw new Error(`PUT pool: ${p.status} ${JSON.stringify(p.body)}`);
  const n = await http.ops('POST', `/v1/pools/${poolKey}/numbers`, { numbers: xs.map((number) => ({ number, city: '杭州' })) });
  if (n.status !== 200) throw new Error(`POST numbers: ${n.status} ${JSON.stringify(n.body)}`);
}

/** 'YYYY-MM-DD HH:mm:ss' in Asia/Shanghai (the default TIMEZONE), `secondsAhead` from now. */
export function expirationIn(secondsAhead: number): string {
  return new Date(Date.now() + secondsAhead * 1000).toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai', hour12: false }).replace('T', ' ');
}

/** Polls `fn` until it returns something other than undefined (errors count as not yet). */
export async function eventually<T>(fn: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether anything accepts TCP connections on 127.0.0.1:port. */
export function tcpListening(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}
