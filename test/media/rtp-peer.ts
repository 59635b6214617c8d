// A tiny RTP endpoint for tests: a UDP socket whose port goes into a caller's or far end's SDP.
// It records every packet it receives (time, payload type, audio) and, once it has heard from
// FreeSWITCH, can answer with a PCMU sine tone, so a test can tell who hears what: prompt,
// ringback or ring tone before the 200 OK, the other party's tone once bridged.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface RtpPacket {
  at: number;
  pt: number;
  seq: number;
  payload: Buffer;
}

/** G.711 µ-law → 16-bit linear. */
export function ulawToLinear(u: number): number {
  u = ~u & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  let sample = ((mantissa << 3) + 0x84) << exponent;
  sample -= 0x84;
  return sign ? -sample : sample;
}

/** 16-bit linear → G.711 µ-law. */
export function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  const sign = sample < 0 ? 0x80 : 0;
  let s = Math.min(Math.abs(sample), CLIP) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** 20 ms of a PCMU sine at `hz`, continuing from sample index `n0`. */
export function toneFrame(hz: number, n0: number, amplitude = 8000): Buffer {
  const b = Buffer.alloc(160);
  for (let i = 0; i < 160; i++) b[i] = linearToUlaw(Math.round(amplitude * Math.sin((2 * Math.PI * hz * (n0 + i)) / 8000)));
  return b;
}

/** Frequency (Hz) of the loudest steady tone in PCMU frames, by zero crossings; 0 for silence. */
export function dominantHz(frames: Buffer[]): number {
  const samples: number[] = [];
  for (const f of frames) for (const u of f) samples.push(ulawToLinear(u));
  // Only the voiced stretches count (ringback is 1 s on, 4 s off).
  let crossings = 0;
  let voiced = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if (Math.abs(a) < 200 && Math.abs(b) < 200) continue;
    voiced++;
    if ((a < 0 && b >= 0) || (a >= 0 && b < 0)) crossings++;
  }
  if (voiced < 400) return 0;
  return Math.round((crossings / 2) * (8000 / voiced));
}

/** RMS level of PCMU frames (0 for digital silence). */
export function rms(frames: Buffer[]): number {
  let sum = 0;
  let n = 0;
  for (const f of frames) {
    for (const u of f) {
      const s = ulawToLinear(u);
      sum += s * s;
      n++;
    }
  }
  return n ? Math.sqrt(sum / n) : 0;
}

export class RtpPeer {
  readonly packets: RtpPacket[] = [];
  private remote?: RemoteInfo;
  private timer?: NodeJS.Timeout;
  private waitTimer?: NodeJS.Timeout;
  private seq = 1;
  private ts = 0;
  private n = 0;

  private constructor(
    private readonly sock: Socket,
    readonly port: number,
  ) {
    sock.on('message', (msg, rinfo) => {
      if (msg.length < 12 || msg[0]! >> 6 !== 2) return;
      const cc = msg[0]! & 0x0f;
      const pt = msg[1]! & 0x7f;
      this.packets.push({ at: Date.now(), pt, seq: msg.readUInt16BE(2), payload: msg.subarray(12 + cc * 4) });
      this.remote ??= rinfo;
    });
  }

  static async open(): Promise<RtpPeer> {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    return new RtpPeer(sock, sock.address().port);
  }

  /** Once FreeSWITCH has sent something, answer with a `hz` tone every 20 ms. */
  sendToneWhenHeard(hz: number): void {
    this.timer = setInterval(() => {
      if (!this.remote) return;
      const h = Buffer.alloc(12);
      h[0] = 0x80;
      h[1] = 0;
      h.writeUInt16BE(this.seq++ & 0xffff, 2);
      h.writeUInt32BE(this.ts >>> 0, 4);
      h.writeUInt32BE(0x1234abcd, 8);
      this.ts += 160;
      this.sock.send(Buffer.concat([h, toneFrame(hz, this.n)]), this.remote.port, this.remote.address);
      this.n += 160;
    }, 20);
  }

  /** Where to send from now on: the address in the latest SDP this party received. */
  setRemote(address: string, port: number): void {
    this.remote = { address, port, family: 'IPv4', size: 0 };
  }

  /**
   * Once FreeSWITCH has sent something, sends these packets (RTP, e.g. DTMF events and audio from
   * dtmf-pcap.ts) at their times, from this socket: symmetric RTP, as real phones do.
   */
  playWhenHeard(packets: Array<{ atMs: number; rtp: Buffer }>): void {
    const wait = setInterval(() => {
      if (!this.remote) return;
      clearInterval(wait);
      const start = Date.now();
      let i = 0;
      this.timer = setInterval(() => {
        const now = Date.now() - start;
        while (i < packets.length && packets[i]!.atMs <= now) this.sock.send(packets[i++]!.rtp, this.remote!.port, this.remote!.address);
        if (i >= packets.length) clearInterval(this.timer);
      }, 5);
    }, 10);
    this.waitTimer = wait;
  }

  /** PCMU audio frames received in [from, to). */
  audio(from = 0, to = Number.POSITIVE_INFINITY): Buffer[] {
    return this.packets.filter((p) => p.pt === 0 && p.at >= from && p.at < to).map((p) => p.payload);
  }

  count(from = 0, to = Number.POSITIVE_INFINITY): number {
    return this.packets.filter((p) => p.at >= from && p.at < to).length;
  }

  close(): void {
    clearInterval(this.timer);
    clearInterval(this.waitTimer);
    this.sock.close();
  }
}

/** `count` peers open for `use` (opened one after the other), every one closed after it, whatever happens. */
export function withRtpPeers<T>(count: 1, use: (peers: [RtpPeer]) => Promise<T>): Promise<T>;
export function withRtpPeers<T>(count: 2, use: (peers: [RtpPeer, RtpPeer]) => Promise<T>): Promise<T>;
export async function withRtpPeers<T>(count: number, use: (peers: never) => Promise<T>): Promise<T> {
  const peers: RtpPeer[] = [];
  try {
    for (let i = 0; i < count; i++) peers.push(await RtpPeer.open());
    return await use(peers as never);
  } finally {
    for (const p of peers) p.close();
  }
}
