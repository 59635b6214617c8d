// Where one attempt of a queued entry goes and how it is signed (delivery.ts names the targets):
// the operator's webhook (WEBHOOK_URL, HMAC by WEBHOOK_SECRET, WEBHOOK_RETRY_SCHEDULE), or a
// Huawei app's statusUrl / feeUrl signed X-AKSK with the app's own key and secret
// (HUAWEI_CALLBACK_RETRY_SCHEDULE). The app is read at every attempt, so a changed URL or secret
// applies to retries and a deleted app's entries are dead-lettered saying so.
import { akskHeaders } from '../util/huawei-aksk.js';
import { parseTarget } from './delivery.js';
import type { QueueEntry } from './dead-letters.js';
import { createPoster, type Poster } from './http-post.js';
import { signWebhook } from './webhook.js';

/** What the worker needs of a Huawei app (HuaweiStore.readApp). */
export interface CallbackApp {
  appSecret: string;
  statusUrl?: string;
  feeUrl?: string;
}

export interface DeliveryTargetsOptions {
  webhook?: { url: string; secret?: string; schedule: number[] };
  huawei?: { schedule: number[]; app(appKey: string): Promise<CallbackApp | undefined> };
  timeoutMs: number;
  /** Sockets per receiver. */
  concurrency: number;
}

export type Attempt =
  /** POST it; `schedule`: the waits after each failed attempt of this target. */
  | { post: Poster; headers: Record<string, string>; schedule: number[] }
  /** Cannot be sent now or later by itself: dead-letter with this reason (ops may resend). */
  | { dead: string }
  /** Nothing to send it to (the app has no URL of that kind): acknowledged without a POST. */
  | { drop: string };

const USER_AGENT = 'xline-webhook/1';
/** Receivers kept connected at once (one keep-alive agent each); the least recently used goes. */
const MAX_POSTERS = 256;

export class DeliveryTargets {
  private readonly posters = new Map<string, Poster>();

  constructor(private readonly opts: DeliveryTargetsOptions) {}

  async attempt(e: QueueEntry, attemptNo: number, nowMs: number): Promise<Attempt> {
    const t = parseTarget(e.to);
    if (t.kind === 'unknown') return { dead: `unknown target '${t.to}'` };
    if (t.kind === 'webhook') {
      const w = this.opts.webhook;
      if (!w) return { dead: 'WEBHOOK_URL is not set' };
      const ts = Math.floor(nowMs / 1000);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'x-xline-event-id': e.id,
        'x-xline-event-type': e.type,
        'x-xline-attempt': String(attemptNo),
        'x-xline-timestamp': String(ts),
      };
      if (w.secret) headers['x-xline-signature'] = signWebhook(w.secret, ts, e.body);
      return { post: this.poster(w.url), headers, schedule: w.schedule };
    }
    const hw = this.opts.huawei;
    if (!hw) return { dead: 'Huawei callbacks are not enabled in this process' };
    const app = await hw.app(t.appKey);
    if (!app) return { dead: `Huawei app ${t.appKey} does not exist (deleted?)` };
    const url = t.url === 'status' ? app.statusUrl : app.feeUrl;
    if (!url) return { drop: `Huawei app ${t.appKey} has no ${t.url === 'status' ? 'statusUrl' : 'feeUrl'}` };
    const headers = {
      'content-type': 'application/json;charset=UTF-8',
      'user-agent': USER_AGENT,
      ...akskHeaders(t.appKey, app.appSecret, undefined, nowMs),
    };
    let post: Poster;
    try {
      post = this.poster(url);
    } catch {
      return { dead: `Huawei app ${t.appKey}: its ${t.url === 'status' ? 'statusUrl' : 'feeUrl'} is not a URL` };
    }
    return { post, headers, schedule: hw.schedule };
  }

  private poster(url: string): Poster {
    let p = this.posters.get(url);
    if (p) {
      // most recently used last
      this.posters.delete(url);
      this.posters.set(url, p);
      return p;
    }
    p = createPoster(url, { timeoutMs: this.opts.timeoutMs, maxSockets: this.opts.concurrency });
    this.posters.set(url, p);
    if (this.posters.size > MAX_POSTERS) {
      const [oldUrl, old] = this.posters.entries().next().value as [string, Poster];
      this.posters.delete(oldUrl);
      // a POST still in flight on it fails and is retried like any failed attempt
      old.close();
    }
    return p;
  }

  close(): void {
    for (const p of this.posters.values()) p.close();
    this.posters.clear();
  }
}
