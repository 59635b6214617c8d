// Real phones through the whole product: baresip processes (test/support/baresip.ts) calling
// each other through real drachtio-server, xline (SIP app and media) and FreeSWITCH, on a
// loopback block of their own. The phone that gets the B leg listens where SIP_OUTBOUND_URI
// points (every B leg goes there, whoever's number it carries); the caller has another address.
//
// A media relay is a matter of environment: with `relayNg` (rtpengine's ng address) xline is
// started with RTPENGINE_NG, and each call also records the UDP to and from the phones' media
// ports (tcpdump on lo), so a test can check what crossed and from where.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpTcpPort } from '../support/drachtio.js';
import { baresipBin, loopbackBlock, startPhone, type Phone, type PhoneEvent } from '../support/baresip.js';
import { startCapture, type Capture, type UdpDatagram } from '../support/loopback-capture.js';
import { canRunMedia, startMediaStack, type MediaStack } from '../media/harness.js';
import type { RedisSide } from '../sip/harness.js';

export const canRunPhones = Boolean(canRunMedia && baresipBin);

export interface PhoneStack extends MediaStack {
  transport: 'udp' | 'tcp';
  /** Where B legs go (SIP_OUTBOUND_URI): the callee's phone listens here. */
  callee: { address: string; port: number };
  /** The caller's phone address. */
  callerAddress: string;
  /** xline runs with RTPENGINE_NG: media is anchored by a relay. */
  relay: boolean;
  /** Phone directories, captures. */
  phonesDir: string;
}

export async function startPhoneStack(
  side: RedisSide,
  o: { transport?: 'udp' | 'tcp'; relayNg?: string; env?: Record<string, string> } = {},
): Promise<PhoneStack> {
  const transport = o.transport ?? 'udp';
  const host = loopbackBlock();
  const callee = { address: host(3), port: await freeUdpTcpPort() };
  const s = await startMediaStack(side, {
    SIP_TRUNK_CIDRS: '127.0.0.0/8',
    SIP_OUTBOUND_URI: `sip:${callee.address}:${callee.port}${transport === 'tcp' ? ';transport=tcp' : ''}`,
    ...(o.relayNg ? { RTPENGINE_NG: o.relayNg } : {}),
    ...o.env,
  });
  const phonesDir = mkdtempSync(join(tmpdir(), 'xline-phones-'));
  return {
    ...s,
    transport,
    callee,
    callerAddress: host(2),
    relay: Boolean(o.relayNg),
    phonesDir,
    async stop() {
      await s.stop();
      rmSync(phonesDir, { recursive: true, force: true });
    },
  };
}

export interface Party {
  number: string;
  toneHz: number;
}

export interface PhoneCall {
  caller: Phone;
  callee: Phone;
  /** Call-ID of the caller's INVITE (the CDR's call_id). */
  callId: string;
  /** CALL_ESTABLISHED at each phone (local ms). */
  callerUp: PhoneEvent;
  calleeUp: PhoneEvent;
  /** UDP to and from the phones' media ports (only when the stack has a relay). */
  datagrams?: UdpDatagram[];
  /** Why there are no datagrams although the stack has a relay (tcpdump missing or not allowed). */
  captureError?: string;
}

let seq = 0;

/**
 * One call between two phones: `caller` dials X; with `digits` it keys them (RFC 2833) once
 * answered (the extension prompt), and the B leg's phone (`callee`, auto-answer) rings where
 * SIP_OUTBOUND_URI points. Both talk for `talkMs` once the callee is up; then `hangUp` ends it.
 */
export async function phoneCall(
  s: PhoneStack,
  o: { caller: Party; callee: Party; x: string; digits?: string; talkMs?: number; hangUp?: 'caller' | 'callee' },
): Promise<PhoneCall> {
  const n = ++seq;
  const rtpBase = 10_000 + 2 * Math.floor(Math.random() * 9_900);
  const callee = await startPhone({
    name: `callee-${n}`,
    number: o.callee.number,
    address: s.callee.address,
    port: s.callee.port,
    transport: s.transport,
    toneHz: o.callee.toneHz,
    rtpBase,
    dir: s.phonesDir,
  });
  let caller: Phone | undefined;
  let capture: Capture | undefined;
  let captureError: string | undefined;
  try {
    caller = await startPhone({
      name: `caller-${n}`,
      number: o.caller.number,
      address: s.callerAddress,
      transport: s.transport,
      toneHz: o.caller.toneHz,
      rtpBase: rtpBase + 100,
      dir: s.phonesDir,
    });
    if (s.relay) {
      // By port, not address: the phones' sockets are bound to 0.0.0.0, so they send from
      // 127.0.0.1, and a peer that latches onto the source (FreeSWITCH, rtpengine) answers there.
      const range = `portrange ${rtpBase}-${rtpBase + 199}`;
      capture = await startCapture(`udp and (src ${range} or dst ${range})`, join(s.phonesDir, `call-${n}.pcap`)).catch(
        (e: unknown) => void (captureError = String(e)),
      );
    }
    // Over TCP the account's ;transport=tcp applies to what it dials.
    await caller.dial(`sip:${o.x}@127.0.0.1:${s.drachtio.sipPort}`);
    const callerUp = await caller.waitEvent('CALL_ESTABLISHED');
    if (o.digits) {
      // The prompt is playing: key the extension the way a person would, a moment in.
      await new Promise((r) => setTimeout(r, 500));
      await caller.sendDigits(o.digits);
    }
    const calleeUp = await callee.waitEvent('CALL_ESTABLISHED', 15_000);
    // The conversation: how long each hears the other is what the test measures.
    await new Promise((r) => setTimeout(r, o.talkMs ?? 3000));
    const [first, second] = o.hangUp === 'callee' ? [callee, caller] : [caller, callee];
    await first.hangup();
    await first.waitEvent('CALL_CLOSED');
    await second.waitEvent('CALL_CLOSED');
    const invite = caller.sip().find((m) => m.direction === 'sent' && m.method === 'INVITE');
    // The phones send their last RTCP (with their CNAME) as their streams close.
    await Promise.all([caller.stop(), callee.stop()]);
    const datagrams = await capture?.stop();
    capture = undefined;
    return {
      caller,
      callee,
      callId: invite?.header('call-id') ?? '',
      callerUp,
      calleeUp,
      ...(datagrams ? { datagrams } : {}),
      ...(captureError ? { captureError } : {}),
    };
  } finally {
    await capture?.stop().catch(() => undefined);
    await Promise.all([caller?.stop(), callee.stop()]);
  }
}
