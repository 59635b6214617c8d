// The link to FreeSWITCH: connects through drachtio-fsmrf, keeps ctx.health.media true only while
// the event socket answers, reconnects by itself (FreeSWITCH down or restarted), and counts every
// endpoint it creates until it is released — the figure tests assert returns to zero.
import Mrf from 'drachtio-fsmrf';
import type Srf from 'drachtio-srf';
import type { Logger } from '../log.js';
import { probeEventSocket, EslProbeError } from './esl-probe.js';

export interface MediaLinkOptions {
  host: string;
  port: number;
  secret: string;
  listenAddress: string;
  listenPort: number;
  advertisedAddress?: string;
  advertisedPort?: number;
  /** Liveness check period of the event socket. */
  pingMs?: number;
}

export class MediaUnavailableError extends Error {
  constructor(message = 'media server (FreeSWITCH) not connected') {
    super(message);
    this.name = 'MediaUnavailableError';
  }
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
};

export class MediaLink {
  private readonly mrf: Mrf;
  private ms: Mrf.MediaServer | undefined;
  private connecting = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private delayMs = 100;
  private lastError = '';
  private missedPings = 0;
  private readonly endpoints = new Set<Mrf.Endpoint>();
  private waiters: Array<() => void> = [];

  constructor(
    srf: Srf,
    private readonly opts: MediaLinkOptions,
    private readonly log: Logger,
    private readonly onState: (up: boolean) => void,
  ) {
    this.mrf = new Mrf(srf);
  }

  start(): void {
    void this.attempt();
  }

  get up(): boolean {
    return this.ms !== undefined && this.ms.connected();
  }

  /** Resolves true once connected, false after `ms`. */
  waitUp(ms: number): Promise<boolean> {
    if (this.up) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        resolve(true);
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, ms);
      this.waiters.push(done);
    });
  }

  /** Endpoints created through this link and not yet released (FreeSWITCH channels xline holds). */
  liveEndpoints(): number {
    return this.endpoints.size;
  }

  private server(): Mrf.MediaServer {
    if (!this.ms || !this.ms.connected()) throw new MediaUnavailableError();
    return this.ms;
  }

  /** An endpoint: with `remoteSdp` FreeSWITCH answers that offer; without, it makes an offer (3pcc). */
  async createEndpoint(opts: Mrf.EndpointOptions = {}): Promise<Mrf.Endpoint> {
    const ep = await this.server().createEndpoint(opts);
    this.endpoints.add(ep);
    // FreeSWITCH hung the channel up itself (restart, media timeout): it is gone already.
    ep.once('destroy', () => this.endpoints.delete(ep));
    return ep;
  }

  /**
   * Hangs an endpoint up (idempotent). uuid_kill rather than fsmrf's destroy(): that runs the
   * `hangup` application, which queues behind whatever the channel is playing.
   */
  async release(ep: Mrf.Endpoint | undefined): Promise<void> {
    if (!ep || !this.endpoints.delete(ep)) return;
    const dialog = ep.dialog;
    if (this.up && ep.connected) {
      const gone = new Promise<void>((resolve) => ep.once('destroy', () => resolve()));
      const r = await this.api(`uuid_kill ${ep.uuid} NORMAL_CLEARING`, 2000).catch((err: unknown) => String(err));
      if (r.startsWith('+OK')) await withTimeout(gone, 2000, 'endpoint hangup').catch(() => undefined);
    }
    // FreeSWITCH gone or silent: close the SIP dialog ourselves so drachtio-server forgets it.
    if (dialog?.connected) void dialog.destroy().catch(() => undefined);
  }

  /** A FreeSWITCH API command over the inbound event socket. */
  async api(command: string, timeoutMs = 3000): Promise<string> {
    return withTimeout(this.server().api(command), timeoutMs, `api ${command.split(' ')[0]}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    await Promise.allSettled([...this.endpoints].map((ep) => this.release(ep)));
    this.drop();
  }

  private async attempt(): Promise<void> {
    if (this.stopped || this.ms || this.connecting) return;
    this.connecting = true;
    const freeswitch = this.opts;
    try {
      await probeEventSocket({ host: freeswitch.host, port: freeswitch.port, password: freeswitch.secret, timeoutMs: 3000 });
      const ms = await withTimeout(
        this.mrf.connect({
          address: freeswitch.host,
          port: freeswitch.port,
          secret: freeswitch.secret,
          listenAddress: freeswitch.listenAddress,
          listenPort: freeswitch.listenPort,
          ...(freeswitch.advertisedAddress ? { advertisedAddress: freeswitch.advertisedAddress } : {}),
          ...(freeswitch.advertisedPort ? { advertisedPort: freeswitch.advertisedPort } : {}),
        }),
        5000,
        'drachtio-fsmrf connect',
      );
      // xline reconnects on its own terms; drachtio-modesl's built-in retry must stay off
      // (it would reconnect a socket nobody listens to any more).
      ms.conn.reconnectOpts.maxAttempts = 1;
      if (this.stopped) {
        ms.disconnect();
        return;
      }
      ms.on('end', () => this.lost('event socket closed'));
      this.ms = ms;
      this.delayMs = 100;
      this.lastError = '';
      this.missedPings = 0;
      this.onState(true);
      this.log.info({ freeswitch: `${freeswitch.host}:${freeswitch.port}`, sip: ms.sip.ipv4.udp.address }, 'MediaLink: connected to FreeSWITCH');
      this.pingTimer = setInterval(() => void this.ping(), freeswitch.pingMs ?? 5000);
      this.pingTimer.unref();
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      // One line per distinct problem, not one per retry.
      if (msg !== this.lastError) {
        const kind = err instanceof EslProbeError ? err.kind : 'connect';
        (kind === 'unreachable' ? this.log.warn : this.log.error).call(this.log, { err: msg }, 'MediaLink: FreeSWITCH not usable, retrying');
        this.lastError = msg;
      }
      this.schedule();
    } finally {
      this.connecting = false;
    }
  }

  private async ping(): Promise<void> {
    if (!this.ms) return;
    try {
      await this.api('status', 5000);
      this.missedPings = 0;
    } catch (err) {
      // A FreeSWITCH that died closes the socket (noticed at once); this catches one that hangs.
      // Two misses in a row, so a host busy for a few seconds does not cost the link.
      if (++this.missedPings >= 2) this.lost(`liveness check failed twice: ${String(err)}`);
    }
  }

  private lost(why: string): void {
    if (!this.ms) return;
    this.log.error({ why }, 'MediaLink: lost FreeSWITCH, reconnecting');
    this.drop();
    this.onState(false);
    this.schedule();
  }

  private drop(): void {
    clearInterval(this.pingTimer);
    const ms = this.ms;
    this.ms = undefined;
    if (ms) {
      try {
        ms.disconnect();
      } catch {
        // already closed
      }
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.attempt(), this.delayMs);
    this.retryTimer.unref();
    this.delayMs = Math.min(this.delayMs * 2, 2000);
  }
}
