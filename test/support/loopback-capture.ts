// What really crossed the loopback interface: tcpdump writes the UDP datagrams matching a filter
// to a pcap file; the test reads them back (source and destination, payload) and picks out RTCP
// (its SDES items carry a phone's CNAME, typically its SIP URI with the real number).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { requireBinary } from './binaries.js';


export interface UdpDatagram {
  /** Capture time, ms since epoch. */
  at: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  payload: Buffer;
}

export interface Capture {
  /** Stops tcpdump and returns every UDP datagram it caught. */
  stop(): Promise<UdpDatagram[]>;
}

/** Starts tcpdump on `lo` with a BPF `filter` (e.g. `udp and dst host 127.1.2.3`), writing `file`. */
/** tcpdump, looked up on first use: only the tests that capture need it (and then say so). */
export function tcpdumpBin(): string | undefined {
  return requireBinary('tcpdump', 'TCPDUMP_BIN', 'apt-get install -y tcpdump; capturing needs root or CAP_NET_RAW');
}

export async function startCapture(filter: string, file: string): Promise<Capture> {
  const bin = tcpdumpBin();
  if (!bin) throw new Error('tcpdump binary not found (apt-get install -y tcpdump)');
  const child = spawn(bin, ['-i', 'lo', '-n', '--immediate-mode', '-U', '-s', '0', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump did not start capturing in 10 s: ${err}`)), 10_000);
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (/listening on/.test(err)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`tcpdump exited (${code}): ${err.trim()}`));
    });
  });
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGINT'); // flushes and closes the file
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      return readPcapUdp(readFileSync(file));
    },
  };
}

/** UDP over IPv4 from a classic pcap file (Ethernet, Linux cooked v1/v2, null or raw IP links). */
export function readPcapUdp(buf: Buffer): UdpDatagram[] {
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('not a pcap file');
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const link = u32(20);
  const nano = (le ? magic : buf.readUInt32BE(0)) === 0xa1b23c4d;
  const out: UdpDatagram[] = [];
  for (let off = 24; off + 16 <= buf.length; ) {
    const at = u32(off) * 1000 + u32(off + 4) / (nano ? 1e6 : 1e3);
    const len = u32(off + 8);
    const frame = buf.subarray(off + 16, off + 16 + len);
    off += 16 + len;
    let ip: number;
    if (link === 1) ip = frame.readUInt16BE(12) === 0x0800 ? 14 : -1;
    else if (link === 113) ip = frame.readUInt16BE(14) === 0x0800 ? 16 : -1;
    else if (link === 276) ip = frame.readUInt16BE(0) === 0x0800 ? 20 : -1;
    else if (link === 0) ip = 4;
    else if (link === 12 || link === 101) ip = 0;
    else throw new Error(`pcap link type ${link} not read`);
    if (ip < 0 || frame.length < ip + 28 || frame[ip]! >> 4 !== 4 || frame[ip + 9] !== 17) continue;
    const udp = ip + (frame[ip]! & 0x0f) * 4;
    const addr = (o: number) => `${frame[o]}.${frame[o + 1]}.${frame[o + 2]}.${frame[o + 3]}`;
    out.push({
      at,
      src: addr(ip + 12),
      dst: addr(ip + 16),
      srcPort: frame.readUInt16BE(udp),
      dstPort: frame.readUInt16BE(udp + 2),
      payload: Buffer.from(frame.subarray(udp + 8, udp + frame.readUInt16BE(udp + 4))),
    });
  }
  return out;
}

/** An RTCP compound packet (SR, RR, SDES, BYE, APP…), not RTP. */
export function isRtcp(p: Buffer): boolean {
  return p.length >= 8 && p[0]! >> 6 === 2 && p[1]! >= 200 && p[1]! <= 206;
}

/** Every SDES item's text (CNAME, NAME, TOOL…) in an RTCP compound packet. */
export function sdesItems(p: Buffer): string[] {
  const items: string[] = [];
  for (let off = 0; off + 4 <= p.length; ) {
    const count = p[off]! & 0x1f;
    const pt = p[off + 1]!;
    const end = off + 4 * (p.readUInt16BE(off + 2) + 1);
    if (pt === 202) {
      let c = off + 4;
      for (let chunk = 0; chunk < count && c + 4 <= end; chunk++) {
        c += 4; // SSRC
        while (c < end && p[c] !== 0) {
          const len = p[c + 1]!;
          items.push(p.toString('latin1', c + 2, c + 2 + len));
          c += 2 + len;
        }
        c = (c + 4) & ~3; // the end item and padding to 32 bits
      }
    }
    off = end;
  }
  return items;
}
