// A one-shot check of FreeSWITCH's event socket before drachtio-fsmrf is let near it:
// TCP reachable, password accepted, profile drachtio_mrf running. fsmrf's own connect() with
// drachtio-modesl 1.3.1 retries a refused socket in a tight loop forever, hangs on a wrong
// password and throws (uncaught, in a socket callback) when the profile is missing — so xline
// only calls it once this probe has passed, and a misconfiguration becomes one clear log line.
import { connect, type Socket } from 'node:net';

export class EslProbeError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'auth' | 'no-profile' | 'timeout' | 'protocol',
    message: string,
  ) {
    super(message);
    this.name = 'EslProbeError';
  }
}

interface Frame {
  headers: Record<string, string>;
  body: string;
}

/** Splits the event-socket byte stream into frames: headers, blank line, Content-Length body. */
class FrameReader {
  private buf = Buffer.alloc(0);
  private waiting: Array<(f: Frame) => void> = [];
  private frames: Frame[] = [];

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const end = this.buf.indexOf('\n\n');
      if (end < 0) return;
      const headers: Record<string, string> = {};
      for (const line of this.buf.subarray(0, end).toString('utf8').split('\n')) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const len = Number(headers['content-length'] ?? 0);
      if (this.buf.length < end + 2 + len) return;
      const body = this.buf.subarray(end + 2, end + 2 + len).toString('utf8');
      this.buf = this.buf.subarray(end + 2 + len);
      const f = { headers, body };
      const w = this.waiting.shift();
      if (w) w(f);
      else this.frames.push(f);
    }
  }

  next(): Promise<Frame> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

export interface EslProbeOptions {
  host: string;
  port: number;
  password: string;
  profile?: string;
  timeoutMs?: number;
}

/** Resolves with the profile's SIP address (`ip:port`) or rejects with an EslProbeError. */
export async function probeEventSocket(opts: EslProbeOptions): Promise<string> {
  const profile = opts.profile ?? 'drachtio_mrf';
  const timeoutMs = opts.timeoutMs ?? 3000;
  const reader = new FrameReader();
  let sock: Socket | undefined;
  let timer: NodeJS.Timeout | undefined;

  const run = async (): Promise<string> => {
    sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: opts.host, port: opts.port });
      s.once('connect', () => resolve(s));
      s.once('error', (err) => reject(new EslProbeError('unreachable', `FreeSWITCH event socket ${opts.host}:${opts.port}: ${err.message}`)));
    });
    const closed = new Promise<never>((_, reject) => {
      sock!.on('close', () => reject(new EslProbeError('protocol', 'FreeSWITCH closed the event socket')));
      sock!.on('error', () => undefined);
    });
    closed.catch(() => undefined); // settles after the probe is over; nobody waits then
    sock.on('data', (d: Buffer) => reader.push(d));
    const next = () => Promise.race([reader.next(), closed]);

    const hello = await next();
    if (hello.headers['content-type'] === 'text/rude-rejection') {
      throw new EslProbeError('auth', `FreeSWITCH refused this address (event_socket ACL): ${hello.body.trim()}`);
    }
    if (hello.headers['content-type'] !== 'auth/request') {
      throw new EslProbeError('protocol', `unexpected event-socket greeting ${hello.headers['content-type'] ?? '(none)'}`);
    }
    sock.write(`auth ${opts.password}\n\n`);
    const auth = await next();
    if (!auth.headers['reply-text']?.startsWith('+OK')) {
      throw new EslProbeError('auth', 'FreeSWITCH event socket refused the password (FREESWITCH_SECRET)');
    }
    sock.write('api sofia status\n\n');
    const status = await next();
    const re = new RegExp(`^\\s*${profile}\\s.*sip:mod_sofia@((?:[0-9]{1,3}\\.){3}[0-9]{1,3}:\\d+)`, 'm');
    const m = re.exec(status.body);
    if (!m) throw new EslProbeError('no-profile', `FreeSWITCH has no running SIP profile '${profile}' (is mod_sofia loaded and its port free?)`);
    sock.write('exit\n\n');
    return m[1]!;
  };

  try {
    return await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new EslProbeError('timeout', `no answer from FreeSWITCH event socket ${opts.host}:${opts.port} in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    sock?.destroy();
  }
}
