// A party's media for relay tests: an RTP socket and its RTCP socket (port + 1) on a chosen
// loopback address, sending PCMU frames and RTCP receiver reports whose SDES CNAME names the
// party the way phones do (sip:<number>@<address>), and recording every packet with its source.
import { createSocket, type Socket } from 'node:dgram';

export interface Received {
  from: string;
  data: Buffer;
  at: number;
}

export class RtpProbe {
  readonly rtp: Received[] = [];
  readonly rtcp: Received[] = [];
  private timers: NodeJS.Timeout[] = [];
  private seq = 0;

  private constructor(
    private readonly rtpSock: Socket,
    private readonly rtcpSock: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    rtpSock.on('message', (data, r) => this.rtp.push({ from: `${r.address}:${r.port}`, data, at: Date.now() }));
    rtcpSock.on('message', (data, r) => this.rtcp.push({ from: `${r.address}:${r.port}`, data, at: Date.now() }));
  }

  /** An even RTP port with its RTCP port free on `address` (e.g. 127.0.0.2). */
  static async open(address: string): Promise<RtpProbe> {
    for (let i = 0; i < 50; i++) {
      const port = 40_000 + 2 * Math.floor(Math.random() * 10_000);
      const a = await bind(address, port);
      if (!a) continue;
      const b = await bind(address, port + 1);
      if (b) return new RtpProbe(a, b, address, port);
      a.close();
    }
    throw new Error(`no free RTP/RTCP port pair on ${address}`);
  }

  /** An audio offer or answer for this party, naming it as a phone would. */
  sdp(user: string, opts: { session?: string; extra?: string[] } = {}): string {
    return [
      'v=0',
      `o=${user} 53655765 2353687637 IN IP4 ${this.address}`,
      `s=${opts.session ?? 'phone of ' + user}`,
      `c=IN IP4 ${this.address}`,
      't=0 0',
      'a=tool:xline-test-phone 1.0',
      `m=audio ${this.port} RTP/AVP 0 101`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=ptime:20',
      `a=ssrc:${ssrcOf(user)} cname:sip:${user}@${this.address}`,
      `a=ssrc:${ssrcOf(user)} msid:${user}-stream ${user}-track`,
      `a=msid:${user}-stream ${user}-track`,
      ...(opts.extra ?? []),
      'a=sendrecv',
      '',
    ].join('\r\n');
  }

  /** Sends a PCMU frame every 20 ms and an RTCP RR + SDES(CNAME sip:user@address) every 200 ms. */
  send(to: MediaTarget, user: string): void {
    const ssrc = ssrcOf(user);
    this.timers.push(
      setInterval(() => {
        const h = Buffer.alloc(12 + 160, 0xff);
        h[0] = 0x80;
        h[1] = 0;
        h.writeUInt16BE(this.seq++ & 0xffff, 2);
        h.writeUInt32BE((this.seq * 160) >>> 0, 4);
        h.writeUInt32BE(ssrc, 8);
        this.rtpSock.send(h, to.port, to.address);
      }, 20),
      setInterval(() => this.rtcpSock.send(rtcpWithCname(ssrc, `sip:${user}@${this.address}`), to.rtcp.port, to.rtcp.address), 200),
    );
  }

  /**
   * What baresip (libre) sends outside its reports, with no RR or SR in front (RFC 3550 wants
   * one): an APP "PING"/"PONG" packet when its stream starts, and BYE ("Adjo") + SDES(CNAME)
   * when the call ends. Sent once, where `to` wants RTCP.
   */
  sendBareRtcp(to: MediaTarget, user: string, kind: 'app' | 'bye'): void {
    const ssrc = ssrcOf(user);
    const packet = kind === 'app' ? rtcpApp(ssrc) : Buffer.concat([rtcpBye(ssrc, 'Adjo'), sdes(ssrc, `sip:${user}@${this.address}`)]);
    this.rtcpSock.send(packet, to.rtcp.port, to.rtcp.address);
  }

  /** The SSRC this probe sends as `user`. */
  ssrc(user: string): number {
    return ssrcOf(user);
  }

  stopSending(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  close(): void {
    this.stopSending();
    this.rtpSock.close();
    this.rtcpSock.close();
  }
}

export interface MediaTarget {
  address: string;
  port: number;
  /** Where RTCP goes: a=rtcp (RFC 3605) when the SDP has it, else the next port. */
  rtcp: { address: string; port: number };
}

/** `m=audio <port>`, the connection address and a=rtcp of an SDP: where its party wants media. */
export function mediaTarget(sdp: string): MediaTarget {
  const port = /^m=audio (\d+)/m.exec(sdp)?.[1];
  const address = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1];
  if (!port || !address) throw new Error(`no audio target in SDP:\n${sdp}`);
  const rtcp = /^a=rtcp:(\d+)(?: IN IP4 (\S+))?/m.exec(sdp);
  return { address, port: Number(port), rtcp: { address: rtcp?.[2] ?? address, port: rtcp ? Number(rtcp[1]) : Number(port) + 1 } };
}

function ssrcOf(user: string): number {
  let h = 0x12345;
  for (const ch of user) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

/** RTCP compound packet: empty receiver report + SDES with one CNAME item. */
function rtcpWithCname(ssrc: number, cname: string): Buffer {
  const rr = Buffer.alloc(8);
  rr[0] = 0x80;
  rr[1] = 201;
  rr.writeUInt16BE(1, 2);
  rr.writeUInt32BE(ssrc, 4);
  return Buffer.concat([rr, sdes(ssrc, cname)]);
}

/** RTCP BYE for one SSRC with a reason text. */
function rtcpBye(ssrc: number, reason: string): Buffer {
  const text = Buffer.from(reason);
  const body = Buffer.concat([Buffer.alloc(4), Buffer.from([text.length]), text]);
  body.writeUInt32BE(ssrc, 0);
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  return Buffer.concat([Buffer.from([0x81, 203, 0, padded.length / 4]), padded]);
}

/** RTCP APP subtype 0, name "PING", 4 bytes of data "PONG" (libre's first RTCP packet). */
function rtcpApp(ssrc: number): Buffer {
  const p = Buffer.concat([Buffer.from([0x80, 204, 0, 3]), Buffer.alloc(4), Buffer.from('PINGPONG')]);
  p.writeUInt32BE(ssrc, 4);
  return p;
}

/** An SDES packet with one chunk holding one CNAME item. */
function sdes(ssrc: number, cname: string): Buffer {
  const text = Buffer.from(cname);
  const chunk = Buffer.concat([Buffer.alloc(4), Buffer.from([1, text.length]), text, Buffer.from([0])]);
  chunk.writeUInt32BE(ssrc, 0);
  const padded = Buffer.concat([chunk, Buffer.alloc((4 - (chunk.length % 4)) % 4)]);
  return Buffer.concat([Buffer.from([0x81, 202, 0, padded.length / 4]), padded]);
}

function bind(address: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(undefined));
    s.bind(port, address, () => resolve(s));
  });
}
