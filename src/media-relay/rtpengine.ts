// The media relay: rtpengine driven over its ng protocol (UDP) with rtpengine-client, as
// jambonz's SBCs do (offer on the caller's offer, answer on the callee's answer, delete at the
// end). Every call's media then runs through the relay: each party sees only the relay's address
// and port, and RTCP is the relay's own ("generate RTCP"). The phones' RTCP, which carries their
// SIP URI in SDES, is sent to the discard port, never to the relay (rtcp-discard.ts: rtpengine
// would forward what of it holds no report, e.g. a phone's BYE at hang-up). `up` follows every reply and a ping every few seconds; a command
// that gets no answer rejects with RelayUnavailableError so the call can be refused (503, 41).
import { Client } from 'rtpengine-client';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { rtcpToDiscard, withoutRtcpMux } from './rtcp-discard.js';

/** rtpengine did not answer, or refused the command. */
export class RelayUnavailableError extends Error {}

/** How long one ng command may take: an INVITE waits at most this long for the relay. */
export const RELAY_COMMAND_TIMEOUT_MS = 1000;
const PING_INTERVAL_MS = 5000;

/**
 * What xline asks of the relay for every offer and answer: plain RTP/AVP towards both parties
 * (no ICE, no DTLS or SDES), the origin and session c= addresses the relay's own, RTCP generated
 * by the relay, never rtcp-mux (withoutRtcpMux takes it out of what the relay sees; `reject`
 * says so again).
 */
const MEDIA_FLAGS = {
  replace: ['origin', 'session-connection'],
  'transport-protocol': 'RTP/AVP',
  ICE: 'remove',
  DTLS: 'off',
  SDES: ['off'],
  'rtcp-mux': ['reject'],
  'generate RTCP': 'on',
} as const;

export interface RelayCommand {
  /** rtpengine's call id (xline uses the caller leg's Call-ID). */
  callId: string;
  /** Offerer's tag ('from-tag') and answerer's tag ('to-tag'). */
  fromTag: string;
  toTag?: string;
  sdp: string;
}

export interface MediaRelay {
  /** Answered its last command or ping. */
  readonly up: boolean;
  /** Relay sessions this process opened and has not deleted yet. */
  readonly sessions: number;
  offer(c: RelayCommand): Promise<string>;
  answer(c: RelayCommand & { toTag: string }): Promise<string>;
  /** Deletes the call's relay session; never rejects (a lost delete is logged, rtpengine times it out). */
  delete(callId: string): Promise<void>;
  /** rtpengine's own list of its calls (all processes' sessions). */
  list(): Promise<string[]>;
  ping(): Promise<boolean>;
  stop(): void;
}

export interface RelayOptions {
  host: string;
  port: number;
  log: Logger;
  metrics: Registry;
  /** Called whenever `up` changes (health). */
  onState?(up: boolean): void;
  timeoutMs?: number;
}

type Command = 'offer' | 'answer' | 'delete' | 'list' | 'ping';

export function startRtpengine(opts: RelayOptions): MediaRelay {
  const m = relayMetrics(opts.metrics);
  const link = ngLink(opts, m);
  const open = new Set<string>();
  let stopped = false;

  const relay: MediaRelay = {
    get up() {
      return link.up;
    },
    get sessions() {
      return open.size;
    },
    async offer(c) {
      // Counted before the command: an offer that timed out may still have made a session.
      if (!open.has(c.callId)) {
        open.add(c.callId);
        m.sessions.set(open.size);
      }
      const reply = await link.send('offer', (client, dest) =>
        client.offer(dest, { ...MEDIA_FLAGS, 'call-id': c.callId, 'from-tag': c.fromTag, ...(c.toTag ? { 'to-tag': c.toTag } : {}), sdp: withoutRtcpMux(c.sdp) }),
      );
      return sdpOf('offer', reply);
    },
    async answer(c) {
      const reply = await link.send('answer', (client, dest) =>
        client.answer(dest, { ...MEDIA_FLAGS, 'call-id': c.callId, 'from-tag': c.fromTag, 'to-tag': c.toTag, sdp: withoutRtcpMux(c.sdp) }),
      );
      return sdpOf('answer', reply);
    },
    async delete(callId) {
      if (!open.delete(callId)) return;
      m.sessions.set(open.size);
      try {
        const reply = await link.send('delete', (client, dest) => client.delete(dest, { 'call-id': callId }));
        if (reply.warning) link.log.debug({ callId, warning: reply.warning }, 'rtpengine delete');
      } catch (err) {
        link.log.warn({ callId, err: String(err) }, 'rtpengine delete failed: the relay ends the session on its own timeout');
      }
    },
    async list() {
      const reply = await link.send('list', (client, dest) => client.list(dest, { limit: 100_000 }));
      return Array.isArray(reply.calls) ? reply.calls.map(String) : [];
    },
    async ping() {
      try {
        await link.send('ping', (client, dest) => client.ping(dest));
        return true;
      } catch {
        return false;
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      link.close();
    },
  };

  const timer = setInterval(() => void relay.ping(), PING_INTERVAL_MS);
  timer.unref();
  m.up.set(0);
  void relay.ping();
  return relay;
}

/** The relay's SDP for the party, with the phones' RTCP sent to the discard port. */
function sdpOf(command: Command, reply: Record<string, unknown>): string {
  if (typeof reply.sdp !== 'string') throw new RelayUnavailableError(`rtpengine ${command}: reply without SDP`);
  return rtcpToDiscard(reply.sdp);
}

type Dest = { host: string; port: number };

/**
 * The ng link to one rtpengine: every command goes through send(), which keeps `up` (logged and
 * reported on each change) and the command counters, and turns no answer or a refusal into a
 * RelayUnavailableError.
 */
function ngLink(opts: RelayOptions, m: RelayMetrics) {
  const dest: Dest = { host: opts.host, port: opts.port };
  const client = new Client({ timeout: opts.timeoutMs ?? RELAY_COMMAND_TIMEOUT_MS });
  const log = opts.log.child({ component: 'media-relay', rtpengine: `${opts.host}:${opts.port}` });
  client.on('error', (err: unknown) => log.warn({ err: String(err) }, 'rtpengine client socket error'));
  let up = false;

  const setUp = (v: boolean) => {
    m.up.set(v ? 1 : 0);
    if (v === up) return;
    up = v;
    if (v) log.info('rtpengine answers');
    else log.warn('rtpengine does not answer: calls are refused (503, cause 41) until it does');
    opts.onState?.(v);
  };

  async function send(command: Command, run: (c: Client, dest: Dest) => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
    let reply: Record<string, unknown>;
    try {
      reply = await run(client, dest);
    } catch (err) {
      m.commands.inc({ command, result: 'timeout' });
      setUp(false);
      throw new RelayUnavailableError(`rtpengine ${command}: ${err instanceof Error ? err.message : String(err)}`);
    }
    setUp(true);
    if (reply.result === 'error') {
      m.commands.inc({ command, result: 'error' });
      throw new RelayUnavailableError(`rtpengine ${command} refused: ${String(reply['error-reason'] ?? 'no reason')}`);
    }
    m.commands.inc({ command, result: 'ok' });
    return reply;
  }

  return {
    log,
    get up() {
      return up;
    },
    send,
    close: () => client.close(),
  };
}

type RelayMetrics = ReturnType<typeof relayMetrics>;

function relayMetrics(registry: Registry) {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    up: get('xline_media_relay_up', () => new Gauge({ name: 'xline_media_relay_up', help: '1 while rtpengine answers its ng commands', registers: [registry] })),
    sessions: get('xline_media_relay_sessions', () =>
      new Gauge({ name: 'xline_media_relay_sessions', help: 'rtpengine sessions this instance opened and has not deleted', registers: [registry] }),
    ),
    commands: get('xline_media_relay_commands_total', () =>
      new Counter({
        name: 'xline_media_relay_commands_total',
        help: 'ng commands sent to rtpengine by outcome (ok, error = refused, timeout = no answer)',
        labelNames: ['command', 'result'],
        registers: [registry],
      }),
    ),
  };
}
