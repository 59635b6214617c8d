// Writes a pcap of one RTP stream carrying RFC 4733 telephone-events (DTMF) between PCMU silence,
// for sipp's play_pcap_audio. sipp's bundled dtmf_2833_N.pcap files each start at the same
// sequence number, so a digit played twice in a call is a duplicate FreeSWITCH drops; here one
// pcap holds the whole key sequence with sequence numbers and timestamps always increasing.
import { writeFileSync } from 'node:fs';
import { toneFrame } from './rtp-peer.js';

export interface DtmfPcapOptions {
  /** Keys to send: 0-9 * # A-D; a space is a pause of `pauseMs` (between entry attempts). */
  digits: string;
  pauseMs?: number;
  /** Silence before the first key (ms). */
  leadMs?: number;
  /** Length of each key press (ms). */
  toneMs?: number;
  /** Silence between key presses (ms). */
  gapMs?: number;
  /** Silence (or `tailToneHz` tone) after the last key (ms). */
  tailMs?: number;
  /** Fill the tail with a PCMU sine of this frequency: audio the far end should hear once bridged. */
  tailToneHz?: number;
  payloadType?: number;
  ssrc?: number;
}

const EVENT: Record<string, number> = { '*': 10, '#': 11, A: 12, B: 13, C: 14, D: 15 };
const PTIME_MS = 20;
const SAMPLES = 160; // 20 ms at 8 kHz

interface Packet {
  atMs: number;
  rtp: Buffer;
}

function rtpHeader(pt: number, marker: boolean, seq: number, ts: number, ssrc: number): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | (pt & 0x7f);
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return h;
}

/** The RTP packets (payload only, no IP/UDP) and when each is sent. */
export function dtmfRtpPackets(o: DtmfPcapOptions): Packet[] {
  const pt = o.payloadType ?? 101;
  const ssrc = o.ssrc ?? 0x58_4c_49_4e; // "XLIN"
  const toneMs = o.toneMs ?? 120;
  const gapMs = o.gapMs ?? 200;
  const out: Packet[] = [];
  let seq = 1000;
  let ts = 8000;
  let t = 0;
  let first = true;
  const silence = (ms: number, hz = 0) => {
    for (let i = 0; i < Math.round(ms / PTIME_MS); i++) {
      const audio = hz ? toneFrame(hz, ts) : Buffer.alloc(SAMPLES, 0xff);
      out.push({ atMs: t, rtp: Buffer.concat([rtpHeader(0, first, seq++, ts, ssrc), audio]) });
      first = false;
      ts += SAMPLES;
      t += PTIME_MS;
    }
  };
  silence(o.leadMs ?? 500);
  for (const ch of o.digits) {
    if (ch === ' ') {
      silence(o.pauseMs ?? 1500);
      continue;
    }
    const ev = /\d/.test(ch) ? Number(ch) : EVENT[ch.toUpperCase()];
    if (ev === undefined) throw new Error(`not a DTMF key: ${ch}`);
    const steps = Math.max(1, Math.round(toneMs / PTIME_MS));
    const start = ts;
    for (let i = 1; i <= steps; i++) {
      const end = i === steps;
      const payload = Buffer.alloc(4);
      payload[0] = ev;
      payload[1] = (end ? 0x80 : 0) | 10; // E bit, volume -10 dBm0
      payload.writeUInt16BE(Math.min(i * SAMPLES, 0xffff), 2);
      // RFC 4733 §2.5.1.4: the end packet is sent three times, each with its own sequence number.
      for (let r = 0; r < (end ? 3 : 1); r++) {
        out.push({ atMs: t + r, rtp: Buffer.concat([rtpHeader(pt, i === 1 && r === 0, seq++, start, ssrc), payload]) });
      }
      t += PTIME_MS;
    }
    ts = start + steps * SAMPLES;
    silence(gapMs);
  }
  silence(o.tailMs ?? 200, o.tailToneHz ?? 0);
  return out;
}

/** Ethernet + IPv4 + UDP framing: sipp reads these link types from libpcap files. */
function frame(rtp: Buffer): Buffer {
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  const udpLen = 8 + rtp.length;
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + udpLen, 2);
  ip[8] = 64;
  ip[9] = 17;
  ip.set([127, 0, 0, 1], 12);
  ip.set([127, 0, 0, 1], 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(40002, 2);
  udp.writeUInt16BE(udpLen, 4);
  return Buffer.concat([eth, ip, udp, rtp]);
}

export function dtmfPcap(o: DtmfPcapOptions): Buffer {
  const g = Buffer.alloc(24);
  g.writeUInt32LE(0xa1b2c3d4, 0);
  g.writeUInt16LE(2, 4);
  g.writeUInt16LE(4, 6);
  g.writeUInt32LE(65535, 16);
  g.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const parts: Buffer[] = [g];
  const base = 1_700_000_000;
  for (const p of dtmfRtpPackets(o)) {
    const f = frame(p.rtp);
    const h = Buffer.alloc(16);
    h.writeUInt32LE(base + Math.floor(p.atMs / 1000), 0);
    h.writeUInt32LE(Math.round((p.atMs % 1000) * 1000), 4);
    h.writeUInt32LE(f.length, 8);
    h.writeUInt32LE(f.length, 12);
    parts.push(h, f);
  }
  return Buffer.concat(parts);
}

export function writeDtmfPcap(path: string, o: DtmfPcapOptions): string {
  writeFileSync(path, dtmfPcap(o));
  return path;
}
