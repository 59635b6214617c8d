// Every environment variable xline reads, validated once at start (DESIGN §3).
// Nothing else in src/ reads process.env.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const hostPort = /^[^\s:]+:\d{1,5}$/;

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Comma-separated durations (ms, s, m, h) → ms: a retry schedule. */
const durationList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const out: number[] = [];
      for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
        const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(part);
        if (!m) {
          ctx.addIssue({ code: 'custom', message: `'${part}' is not a duration like 500ms, 30s, 4m, 1h` });
          return z.NEVER;
        }
        out.push(Math.round(Number(m[1]) * DURATION_UNITS_MS[m[2] as keyof typeof DURATION_UNITS_MS]));
      }
      return out;
    });

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const schema = z
  .object({
    REDIS_URL: z.string().url().optional(),
    REDIS_CLUSTER_NODES: z
      .string()
      .optional()
      .transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined))
      .refine((v) => !v || v.every((n) => hostPort.test(n)), 'must be host:port,host:port'),
    REDIS_DATA_DIR: z.string().default('./var/redis'),
    /**
     * appendfsync of the private redis-server: everysec loses up to about a second of acknowledged
     * writes on a power loss or kernel crash; always fsyncs every write before Redis answers.
     */
    REDIS_APPENDFSYNC: z.enum(['everysec', 'always']).default('everysec'),
    /**
     * How far Redis's clock may run behind xline's. A write refuses to run later than its
     * request's deadline minus 100 ms minus this, by Redis's clock (store/deadline.ts), so that an
     * isp.SYSTEM_ERROR answer always means nothing was written. 0: same host, or NTP-synced hosts
     * (a few ms, inside the 100 ms margin).
     */
    REDIS_CLOCK_SKEW_MS: z.coerce.number().int().min(0).max(500).default(0),
    ADMIN_HOST: z.string().default('127.0.0.1'),
    ADMIN_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    /**
     * An admin HTTP request's headers, and then its body, must each arrive within this; otherwise
     * 408 and the connection is closed (a slow client holds a socket this long at most).
     */
    ADMIN_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    /** The body of a ring-tone upload (up to 10 MB): 120 s is 10 MB at 0.7 Mbit/s. */
    RING_TONE_UPLOAD_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
    /** Admin HTTP connections open at once; beyond it new ones are closed at once (0: no limit). */
    ADMIN_MAX_CONNECTIONS: z.coerce.number().int().min(0).default(1024),
    ACCESS_KEYS: z
      .string()
      .optional()
      .transform((v, ctx) => {
        const keys = new Map<string, string>();
        for (const pair of (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
          const i = pair.indexOf(':');
          if (i <= 0 || i === pair.length - 1) {
            ctx.addIssue({ code: 'custom', message: 'must be id:secret[,id:secret]' });
            return z.NEVER;
          }
          keys.set(pair.slice(0, i), pair.slice(i + 1));
        }
        return keys;
      }),
    OPS_TOKEN: z.string().min(1).optional(),
    /** Per-AccessKeyId request rate for the dypls API (Alibaba caps a user at 5,000 QPS). */
    API_RATE_LIMIT: z.coerce.number().int().min(0).default(5000),
    DRACHTIO_HOST: z.string().default('127.0.0.1'),
    DRACHTIO_PORT: z.coerce.number().int().min(1).max(65535).default(9022),
    DRACHTIO_SECRET: z.string().default('cymru'),
    /**
     * Several drachtio-servers, host:port[,host:port] (one secret, DRACHTIO_SECRET): the SIP app
     * connects to every one and takes calls from all. Set, it replaces DRACHTIO_HOST/DRACHTIO_PORT.
     */
    DRACHTIO_SERVERS: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        const out: Array<{ host: string; port: number }> = [];
        for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
          const m = /^([^\s:]+):(\d{1,5})$/.exec(part);
          const port = m ? Number(m[2]) : 0;
          if (!m || port < 1 || port > 65535) {
            ctx.addIssue({ code: 'custom', message: `'${part}' is not host:port (must be host:port[,host:port])` });
            return z.NEVER;
          }
          if (out.some((s) => s.host === m[1] && s.port === port)) {
            ctx.addIssue({ code: 'custom', message: `'${part}' is listed twice` });
            return z.NEVER;
          }
          out.push({ host: m[1]!, port });
        }
        if (out.length === 0) {
          ctx.addIssue({ code: 'custom', message: 'must be host:port[,host:port]' });
          return z.NEVER;
        }
        return out;
      }),
    FREESWITCH_HOST: z.string().default('127.0.0.1'),
    FREESWITCH_PORT: z.coerce.number().int().min(1).max(65535).default(8021),
    FREESWITCH_SECRET: z.string().default('ClueCon'),
    SIP_TRUNK_CIDRS: z.string().default('127.0.0.0/8'),
    /** Trunks whose P-Asserted-Identity is believed (default: every allowed trunk). */
    SIP_TRUSTED_PAI_CIDRS: z.string().optional(),
    SIP_OUTBOUND_URI: z
      .string()
      .default('sip:127.0.0.1:5090')
      .refine((v) => /^sips?:[^@\s;]+(:\d+)?(;.*)?$/.test(v), 'must be sip:host[:port]'),
    SIP_RING_TIMEOUT: z.coerce.number().int().min(1).max(600).default(60),
    SIP_MAX_CALL_SECONDS: z.coerce.number().int().min(10).default(4 * 3600),
    WEBHOOK_URL: z.string().url().optional(),
    WEBHOOK_SECRET: z.string().optional(),
    CDR_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
    /**
     * Waits after each failed webhook attempt, comma-separated durations (ms, s, m, h); one retry
     * per entry, then the event is dead-lettered. Default: Huawei's 1, 4, 9, 106, 203, 300 minutes.
     */
    WEBHOOK_RETRY_SCHEDULE: durationList('1m,4m,9m,106m,203m,300m'),
    /** One webhook POST may take this long before it counts as failed. */
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
    /** Webhook POSTs in flight per xline instance. */
    WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(16),
    /** An event held this long by a consumer that stopped answering is taken over by another. */
    WEBHOOK_CLAIM_IDLE_MS: z.coerce.number().int().min(1000).default(60_000),
    /** Call events and CDRs that could not reach Redis wait here (fsynced) until it is back. */
    EVENT_SPOOL_DIR: z.string().default('./var/events-spool'),
    /** How often each xline instance records itself alive in Redis (for the orphaned-call reaper). */
    EVENT_HEARTBEAT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
    /**
     * An instance silent this long is taken for dead: another instance (each looks every
     * EVENT_HEARTBEAT_MS) ends its live calls with a CDR (release_dir 0, cause 41).
     */
    EVENT_OWNER_GRACE_MS: z.coerce.number().int().min(300).default(15_000),
    RECORDING_DIR: z.string().default('./var/recordings'),
    RING_TONE_DIR: z.string().default('./var/ring-tones'),
    /** Base URL written into signed recording download links. */
    PUBLIC_BASE_URL: z.string().url().optional(),
    /** HMAC key of recording download links; unset: a random key per process (links die on restart). */
    RECORDING_URL_SECRET: z.string().min(16).optional(),
    /** Lifetime of a recording download link (Alibaba: 2 hours). */
    RECORDING_URL_TTL_SECONDS: z.coerce.number().int().min(10).max(7 * 86400).default(7200),
    /** Where xline listens for FreeSWITCH's per-call outbound event-socket connections (drachtio-fsmrf). */
    MEDIA_LISTEN_ADDRESS: z.string().default('127.0.0.1'),
    /** 0: any free port. */
    MEDIA_LISTEN_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    /** host[:port] FreeSWITCH must dial back when it cannot reach the listen address (containers, NAT). */
    MEDIA_ADVERTISED_ADDRESS: z.string().optional(),
    /**
     * recording: FreeSWITCH leaves the media path once B answers (re-INVITEs hand the media to the
     * two parties) unless the call is recorded; always: it stays in the path for the whole call.
     */
    MEDIA_ANCHOR: z.enum(['recording', 'always']).default('recording'),
    /**
     * rtpengine's ng control address (UDP), host:port. Set: every call's media is anchored by that
     * relay (topology hiding, the relay's own RTCP); unset: no relay (SDP is still rewritten).
     */
    RTPENGINE_NG: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        const m = /^([^\s:]+):(\d{1,5})$/.exec(v.trim());
        const port = m ? Number(m[2]) : 0;
        if (!m || port < 1 || port > 65535) {
          ctx.addIssue({ code: 'custom', message: `'${v}' is not host:port (rtpengine's listen-ng address, e.g. 127.0.0.1:22222)` });
          return z.NEVER;
        }
        return { host: m[1]!, port };
      }),
    TIMEZONE: z
      .string()
      .default('Asia/Shanghai')
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'unknown IANA time zone'),
    DEFAULT_COUNTRY: z.string().length(2).default('CN'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** all: admin API + SIP app in one process; api or sip: one of them (scale-out). */
    XLINE_ROLE: z.enum(['all', 'api', 'sip']).default('all'),
    SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(1000),
    XLINE_INSTANCE_ID: z.string().optional(),
    EMBEDDED_REDIS_PORT: z.coerce.number().int().min(0).max(65535).default(6390),
    DISABLE_SIGNATURE_NONCE_CHECK: bool.default(false),
    /** The built operator console (`npm run build:console`); default dist/console of this package. */
    CONSOLE_DIR: z.string().default(fileURLToPath(new URL('../dist/console', import.meta.url))),
    /** Lifetime of a console session (sign in again after it). */
    CONSOLE_SESSION_HOURS: z.coerce.number().min(0.01).max(720).default(12),
    /**
     * Huawei API: how far a request's Created may be from xline's clock, either way (Huawei leaves
     * it to the administrator). Clients formatting China time with a 'Z' need 8 h + a margin.
     */
    HUAWEI_CREATED_WINDOW_MS: z.coerce.number().int().min(1000).max(86_400_000).default(15 * 60 * 1000),
    /** Huawei API: how long an instance trusts its copy of an app (a changed secret or a deleted app reaches other instances within it). */
    HUAWEI_APP_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
    /**
     * Huawei apps' callbacks (call events to statusUrl, CDRs to feeUrl): waits after each failed
     * POST, as WEBHOOK_RETRY_SCHEDULE; then the entry is dead-lettered. Huawei's 1, 4, 9, 106, 203, 300 minutes.
     */
    HUAWEI_CALLBACK_RETRY_SCHEDULE: durationList('1m,4m,9m,106m,203m,300m'),
    /** FeeInfo.spId of Huawei CDRs (Huawei: the customer's cloud account); unset: the app's appKey. */
    HUAWEI_CALLBACK_SP_ID: z.string().min(1).max(32).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.REDIS_URL && c.REDIS_CLUSTER_NODES) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_CLUSTER_NODES'], message: 'set REDIS_URL or REDIS_CLUSTER_NODES, not both' });
    }
    if (c.WEBHOOK_CLAIM_IDLE_MS <= 2 * c.WEBHOOK_TIMEOUT_MS + 1000) {
      // An event still held by a live instance (waiting up to one timeout for a free slot, then its
      // own POST) must never look abandoned, or two instances would send it.
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_CLAIM_IDLE_MS'], message: 'must exceed 2 × WEBHOOK_TIMEOUT_MS + 1000' });
    }
    if (c.EVENT_OWNER_GRACE_MS < 2 * c.EVENT_HEARTBEAT_MS) {
      // one late heartbeat (a GC pause, a slow Redis round trip) must not get a live instance's calls ended
      ctx.addIssue({ code: 'custom', path: ['EVENT_OWNER_GRACE_MS'], message: 'must be at least 2 × EVENT_HEARTBEAT_MS' });
    }
  });

export type Config = z.output<typeof schema>;

export class ConfigError extends Error {}

/** Parses an environment (process.env by default) into a typed Config or throws listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const r = schema.safeParse(cleaned);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return r.data;
}
