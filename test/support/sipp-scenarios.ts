// sipp scenario builders for the SIP and media tests (and bench/media.ts), written per test
// (pcap paths, INFO digits and timings differ per case). Caller: INVITE with PCMU/PCMA/telephone-event 101, then DTMF by RFC 2833
// (a pcap from test/media/dtmf-pcap.ts) or SIP INFO, then either hangs up or waits for xline's BYE.
// Far end: rings, answers (or refuses), optionally plays a pcap, waits for BYE.
// Every message is built by send() from its lines, so the framing, the caller's in-dialog
// requests, the answers to a request and the SDP are each written once.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CALLER_FROM = '"Alice Caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]';
const CALLER_TO = '<sip:[service]@[remote_ip]:[remote_port]>';
const VIA = 'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]';
/** The far end's To tag on its responses to the INVITE. */
const FAR_TAG = ';tag=[pid]SIPpTag01[call_number]';
const contact = (user: '[caller]' | '[service]') => `Contact: <sip:${user}@[local_ip]:[local_port];transport=[transport]>`;

/** A <send> of one message (its lines, then a body after a blank line); `after` goes inside the element after the message. */
function send(attrs: string, lines: string[], body?: string[], after = ''): string {
  const text = [...lines, ...(body ? ['', ...body] : [])].map((l) => (l ? `      ${l}` : '')).join('\n');
  return `
  <send${attrs}>
    <![CDATA[

${text}

    ]]>${after}
  </send>`;
}

/** An SDP body: origin `o`, session name `s`, one audio stream on `port` with these payload types. */
function sdp(o: string, s: string, port: string, rtpmaps: string[], extra: string[] = []): string[] {
  const pts = rtpmaps.map((r) => r.split(' ')[0]!).join(' ');
  return [`v=0`, `o=${o} IN IP[local_ip_type] [local_ip]`, `s=${s}`, 'c=IN IP[media_ip_type] [media_ip]', 't=0 0', `m=audio ${port} RTP/AVP ${pts}`, ...rtpmaps.map((r) => `a=rtpmap:${r}`), ...extra, 'a=sendrecv'];
}

const PCMU = '0 PCMU/8000';
const PCMA = '8 PCMA/8000';
const TEL_EVENT = '101 telephone-event/8000';

/** A response to the request just received, its headers copied from it (`toTag` added to To). */
function reply(status: string, o: { toTag?: string; cseq?: string; contact?: string; sdp?: string[]; retrans?: boolean } = {}): string {
  const lines = ['SIP/2.0 ' + status, '[last_Via:]', '[last_From:]', `[last_To:]${o.toTag ?? ''}`, '[last_Call-ID:]', o.cseq ?? '[last_CSeq:]'];
  if (o.contact) lines.push(o.contact);
  if (o.sdp) lines.push('Content-Type: application/sdp');
  lines.push(o.sdp ? 'Content-Length: [len]' : 'Content-Length: 0');
  return send(o.retrans ? ' retrans="500"' : '', lines, o.sdp);
}

/**
 * The caller's request in its dialog (or, with `uri`, to X before there is one); `headers` are
 * those after CSeq (default Max-Forwards alone).
 */
function callerRequest(method: string, cseq: number, o: { attrs?: string; uri?: string; via?: string; toTag?: boolean; headers?: string[]; body?: string[] } = {}): string {
  const lines = [
    `${method} ${o.uri ?? '[next_url]'} SIP/2.0`,
    o.via ?? VIA,
    `From: ${CALLER_FROM}`,
    `To: ${CALLER_TO}${o.toTag === false ? '' : '[peer_tag_param]'}`,
    'Call-ID: [call_id]',
    `CSeq: ${cseq} ${method}`,
    ...(o.headers ?? ['Max-Forwards: 70']),
    o.body ? 'Content-Length: [len]' : 'Content-Length: 0',
  ];
  return send(o.attrs ?? '', lines, o.body);
}

const playPcap = (pcap: string) => `
  <nop>
    <action>
      <exec play_pcap_audio="${pcap}"/>
    </action>
  </nop>`;

export interface CallerScript {
  /** RFC 2833 digits: a pcap to play once answered (sipp play_pcap_audio, in the background). */
  pcap?: string;
  /** SIP INFO digits (application/dtmf-relay), one INFO per key, after `infoAfterMs`. */
  info?: string;
  infoAfterMs?: number;
  /** After the DTMF: hold this long, then BYE (caller hangs up). */
  hangUpAfterMs?: number;
  /** Instead of hanging up: wait for xline's BYE (goodbye after a failed extension, B hung up). */
  expectBye?: boolean;
  /** SDP m= port, e.g. a UDP socket of the test that counts the RTP the caller receives. */
  rtpPort?: number;
  /** The final response expected for the INVITE (default 200). */
  expectStatus?: number;
  /** Early media then CANCEL: waits for 183, CANCELs after this long, expects 487. */
  cancelAfterMs?: number;
  /** Expect xline's re-INVITE handing the media over (B answered, call not recorded); answer it. */
  reinvite?: boolean;
  /** Once connected (after the hand-off, if any): wait this long, then re-INVITE offering PCMA only. */
  codecChangeAfterMs?: number;
}

export function callerScenario(dir: string, name: string, s: CallerScript): string {
  const status = s.expectStatus ?? 200;
  const mport = s.rtpPort !== undefined ? String(s.rtpPort) : '[media_port]';
  const toX = { uri: 'sip:[service]@[remote_ip]:[remote_port]' };
  const steps: string[] = [callerInvite(mport)];
  if (s.cancelAfterMs !== undefined) {
    steps.push(`
  <recv response="183" response_txn="invite"/>
  <pause milliseconds="${s.cancelAfterMs}"/>`);
    steps.push(callerRequest('CANCEL', 1, { ...toX, via: 'Via: [$via]', toTag: false }));
    steps.push(`
  <recv response="200" optional="true"/>
  <recv response="487" response_txn="invite"/>`);
    steps.push(callerRequest('ACK', 1, { ...toX, attrs: ' ack_txn="invite"', via: 'Via: [$via]' }));
    return write(dir, name, steps, 'via');
  }
  steps.push(`
  <recv response="180" optional="true" response_txn="invite"/>
  <recv response="183" optional="true" response_txn="invite"/>`);
  if (status !== 200) {
    steps.push(`
  <recv response="${status}" response_txn="invite"/>`);
    steps.push(callerRequest('ACK', 1, { ...toX, attrs: ' ack_txn="invite"' }));
    return write(dir, name, steps);
  }
  steps.push(`
  <recv response="200" rrs="true" response_txn="invite"/>`);
  steps.push(callerRequest('ACK', 1, { attrs: ' ack_txn="invite"' }));
  if (s.pcap) steps.push(playPcap(s.pcap));
  if (s.info) steps.push(...infoDigits(s.info, s.infoAfterMs ?? 600));
  if (s.reinvite) {
    steps.push(`
  <recv request="INVITE"/>`);
    steps.push(reply('200 OK', { contact: contact('[caller]'), sdp: sdp('alice 53655765 2353687638', 'xline-a-reanswer', mport, [PCMU, TEL_EVENT]) }));
    steps.push(`
  <recv request="ACK"/>`);
  }
  if (s.codecChangeAfterMs !== undefined) steps.push(...codecChange(s.codecChangeAfterMs, mport));
  steps.push(...(s.expectBye ? awaitBye() : callerHangUp(s.hangUpAfterMs ?? 1000)));
  return write(dir, name, steps);
}

/** The caller's INVITE to X offering PCMU, PCMA and telephone-event; its Via kept (for a CANCEL). */
function callerInvite(mport: string): string {
  const offer = sdp('alice 53655765 2353687637', 'xline-a-offer', mport, [PCMU, PCMA, TEL_EVENT], ['a=fmtp:101 0-16', 'a=ptime:20']);
  const lines = [
    'INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0',
    VIA,
    `From: ${CALLER_FROM}`,
    `To: ${CALLER_TO}`,
    'Call-ID: [call_id]',
    'CSeq: 1 INVITE',
    contact('[caller]'),
    'Max-Forwards: 70',
    'User-Agent: xline-test-uac',
    'Content-Type: application/sdp',
    'Content-Length: [len]',
  ];
  const keepVia = `
    <action>
      <ereg regexp=".*" search_in="hdr" header="Via:" assign_to="via"/>
    </action>`;
  return (
    send(' retrans="500" start_txn="invite"', lines, offer, keepVia) +
    `
  <recv response="100" optional="true" response_txn="invite"/>`
  );
}

/** One SIP INFO (application/dtmf-relay) per key, 250 ms apart, after `afterMs`. */
function infoDigits(keys: string, afterMs: number): string[] {
  const steps = [`\n  <pause milliseconds="${afterMs}"/>`];
  [...keys].forEach((key, i) => {
    steps.push(callerRequest('INFO', 2 + i, { attrs: ' retrans="500"', headers: ['Max-Forwards: 70', 'Content-Type: application/dtmf-relay'], body: [`Signal=${key}`, 'Duration=160'] }));
    steps.push(`
  <recv response="200"/>${i < keys.length - 1 ? '\n  <pause milliseconds="250"/>' : ''}`);
  });
  return steps;
}

/** After `afterMs`, a re-INVITE offering PCMA only, answered and ACKed. */
function codecChange(afterMs: number, mport: string): string[] {
  return [
    `
  <pause milliseconds="${afterMs}"/>`,
    callerRequest('INVITE', 50, {
      attrs: ' retrans="500" start_txn="codec"',
      headers: [contact('[caller]'), 'Max-Forwards: 70', 'Content-Type: application/sdp'],
      body: sdp('alice 53655765 2353687639', 'xline-a-pcma', mport, [PCMA, TEL_EVENT]),
    }),
    `
  <recv response="100" optional="true" response_txn="codec"/>
  <recv response="200" response_txn="codec"/>`,
    callerRequest('ACK', 50, { attrs: ' ack_txn="codec"' }),
  ];
}

function callerHangUp(afterMs: number): string[] {
  return [
    `
  <pause milliseconds="${afterMs}"/>`,
    callerRequest('BYE', 90, { attrs: ' retrans="500"' }),
    `
  <recv response="200" crlf="true"/>`,
  ];
}

/** The other side's BYE, answered 200. */
function awaitBye(): string[] {
  return [
    `
  <recv request="BYE"/>`,
    reply('200 OK'),
  ];
}

export interface FarEndScript {
  /** Ring this long before answering. */
  ringMs?: number;
  /** Refuse with this status instead of answering (after ringing). */
  refuse?: number;
  /** Audio to send once answered (sipp play_pcap_audio). */
  pcap?: string;
  /** Hang up this long after answering (default: wait for BYE). */
  hangUpAfterMs?: number;
  /** SDP m= port (an RtpPeer of the test). */
  rtpPort?: number;
  /** Ring until CANCELed: 200 for the CANCEL, 487 for the INVITE. */
  awaitCancel?: boolean;
  /** Expect xline's re-INVITE handing the media over once answered; answer it. */
  reinvite?: boolean;
  /** Expect a re-INVITE offering PCMA (the caller's codec change, relayed); answer with PCMA. */
  codecReinvite?: boolean;
}

export function farEndScenario(dir: string, name: string, s: FarEndScript): string {
  const port = s.rtpPort !== undefined ? String(s.rtpPort) : '[media_port]';
  const steps: string[] = [
    `
  <recv request="INVITE">
    <action>
      <ereg regexp="sips?:[^>]*" search_in="hdr" header="Contact:" assign_to="contact"/>
      <ereg regexp="[^ ].*" search_in="hdr" header="From:" assign_to="inv_from"/>
      <ereg regexp="[^ ].*" search_in="hdr" header="To:" assign_to="inv_to"/>
      <ereg regexp="[^ ].*" search_in="hdr" header="CSeq:" assign_to="inv_cseq"/>
    </action>
  </recv>`,
    reply('180 Ringing', { toTag: FAR_TAG, contact: contact('[service]') }),
    `
  <pause milliseconds="${s.ringMs ?? 200}"/>`,
  ];
  const ack = `
  <recv request="ACK"/>`;
  if (s.awaitCancel) {
    steps.push(`
  <recv request="CANCEL"/>`);
    steps.push(reply('200 OK', { toTag: FAR_TAG }), reply('487 Request Terminated', { toTag: FAR_TAG, cseq: 'CSeq: [$inv_cseq]' }), ack);
    return write(dir, name, steps);
  }
  if (s.refuse) {
    steps.push(reply(`${s.refuse} Refused`, { toTag: FAR_TAG }), ack);
    return write(dir, name, steps);
  }
  steps.push(reply('200 OK', { toTag: FAR_TAG, contact: contact('[service]'), sdp: sdp('bob 1 1', 'xline-b-answer', port, [PCMU, TEL_EVENT]), retrans: true }), ack);
  if (s.pcap) steps.push(playPcap(s.pcap));
  // The far end's answer to a re-INVITE: a new origin version, PCMU or (codecReinvite) PCMA.
  const reanswer = (version: number, session: string, codec: string) => [
    `
  <recv request="INVITE"/>`,
    reply('200 OK', { contact: contact('[service]'), sdp: sdp(`bob 1 ${version}`, session, port, [codec, TEL_EVENT]) }),
    ack,
  ];
  if (s.reinvite) steps.push(...reanswer(2, 'xline-b-reanswer', PCMU));
  if (s.codecReinvite) steps.push(...reanswer(3, 'xline-b-pcma', PCMA));
  if (s.hangUpAfterMs !== undefined) {
    steps.push(`
  <pause milliseconds="${s.hangUpAfterMs}"/>`);
    const bye = ['BYE [$contact] SIP/2.0', VIA, `From: [$inv_to]${FAR_TAG}`, 'To: [$inv_from]', 'Call-ID: [call_id]', 'CSeq: 1 BYE', 'Max-Forwards: 70', 'Content-Length: 0'];
    steps.push(send(' retrans="500"', bye), `
  <recv response="200"/>`);
    return write(dir, name, steps);
  }
  steps.push(...awaitBye());
  return write(dir, name, steps);
}

function write(dir: string, name: string, steps: string[], vars?: string): string {
  const path = join(dir, `${name}.xml`);
  const used = vars ?? (steps.some((x) => x.includes('assign_to="contact"')) ? 'contact,inv_from,inv_to,inv_cseq' : steps.some((x) => x.includes('assign_to="via"')) ? 'via' : '');
  const refs = used ? `\n  <Reference variables="${used}"/>` : '';
  writeFileSync(
    path,
    `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n<scenario name="${name}">${steps.join('')}${refs}\n</scenario>\n`,
  );
  return path;
}
