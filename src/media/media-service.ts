// What the SIP app's media flows (src/sip/flows/media-*.ts, extension-entry.ts) get from
// FreeSWITCH through drachtio-fsmrf: the link and its endpoints, recording links, the ring source
// of a bridge (a Huawei preVoice tone first), the files of a binding's tones, and whether a bridge
// needs media at all. Made from the SIP app's Srf (fsmrf sends
// its INVITEs to FreeSWITCH through the same drachtio-server connection).
import type Srf from 'drachtio-srf';
import type { Logger } from '../log.js';
import type { AppContext } from '../context.js';
import type { Config } from '../config.js';
import { bridgeNeedsMedia, dependsOnPoolDefaults, ringToneId } from '../domain/bridge-media.js';
import { callFeatures } from '../domain/call-features.js';
import { toneIdCandidates } from '../domain/huawei-binding.js';
import { PoolRingDefaults } from '../store/pool-ring-defaults.js';
import type { BridgeDecision } from '../domain/route.js';
import { MediaLink } from './media-link.js';
import { recordingDuration, recordingLinks, type RecordingLinks } from '../audio-files/recording-files.js';
import { ringToneExists, ringTonePath } from '../audio-files/ring-tones.js';
import { DEFAULT_RINGBACK } from './ringback.js';

/** What a media flow uses of FreeSWITCH. */
export interface MediaEnv {
  config: Config;
  link: MediaLink;
  links: RecordingLinks;
  /**
   * What the caller hears while B rings: a ring-tone file or FreeSWITCH's default ringback, after
   * the binding's preVoice tone (once) when it has one for this caller.
   */
  ringSource(d: BridgeDecision): Promise<string>;
  /** The file of a binding's tone name (a ring-tone id, lenient.ts); undefined (logged) when gone. */
  toneFile(name: string, subsId: string): Promise<string | undefined>;
}

/**
 * Media as the SIP app sees it. Without one (or with FreeSWITCH down) extension calls are refused
 * 503 cause 41 and bridges go out directly, without tone or recording.
 */
export interface MediaHandler {
  /** FreeSWITCH is connected right now. */
  available(): boolean;
  /**
   * Does this bridge need media (ring tone, recording)? false → a direct bridge.
   * May answer asynchronously (a pool-level ring-tone default not cached yet).
   */
  wantsBridge(decision: BridgeDecision): boolean | Promise<boolean>;
  readonly env: MediaEnv;
}

export interface MediaService extends MediaHandler {
  readonly link: MediaLink;
  /** FreeSWITCH endpoints xline holds right now (0 when no call is in media). */
  liveEndpoints(): number;
  /** Resolves true once FreeSWITCH is connected, false after `ms`. */
  waitUp(ms: number): Promise<boolean>;
  stop(): Promise<void>;
}

export function startMedia(ctx: AppContext, srf: Srf): MediaService {
  const { config } = ctx;
  const log = ctx.log.child({ component: 'media' });
  const link = mediaLink(ctx, srf, log);
  link.start();
  const pools = new PoolRingDefaults(ctx.store, log);
  void pools.refreshAll();
  const poolTimer = setInterval(() => void pools.refreshAll(), 30_000);
  poolTimer.unref();

  const env: MediaEnv = {
    config,
    link,
    links: recordingLinks(config),
    async ringSource(d) {
      const pre = callFeatures(d).preVoice;
      const [ring, hint] = await Promise.all([ringTone(d), pre ? env.toneFile(pre, d.binding.subsId) : undefined]);
      // One playback: the hint once, then the ringback (file_string plays each in turn, tone_stream too).
      return hint ? `file_string://${hint}!${ring.replace(/^file_string:\/\//, '')}` : ring;
    },
    async toneFile(name, subsId) {
      for (const id of toneIdCandidates(name)) if (await ringToneExists(config, id)) return ringTonePath(config, id);
      log.warn({ tone: name, subsId }, 'media: tone file missing, not played');
      return undefined;
    },
  };

  async function ringTone(d: BridgeDecision): Promise<string> {
    const id = ringToneId(d, await pools.get(d.binding.poolKey));
    if (!id) return DEFAULT_RINGBACK;
    const path = ringTonePath(config, id);
    const seconds = await recordingDuration(path);
    if (seconds === undefined) {
      log.warn({ toneId: id, subsId: d.binding.subsId }, 'media: ring tone file missing, playing the default ringback');
      return DEFAULT_RINGBACK;
    }
    // The tone repeated for longer than B may ring, as one playback (stopped with uuid_break).
    const times = Math.min(500, Math.ceil((config.SIP_RING_TIMEOUT + 5) / Math.max(seconds, 0.2)));
    return `file_string://${Array(times).fill(path).join('!')}`;
  }

  return {
    link,
    available: () => link.up,
    wantsBridge(d) {
      // Without FreeSWITCH a call still goes out as a plain bridge: no tone, no recording.
      if (!link.up) {
        if (d.record) log.warn({ subsId: d.binding.subsId }, 'media: FreeSWITCH unavailable, this call is bridged without recording');
        return false;
      }
      if (!dependsOnPoolDefaults(d)) return bridgeNeedsMedia(d, undefined);
      // Only the pool default can still ask for a tone: known (usual, no I/O) or read once.
      const k = pools.known(d.binding.poolKey);
      if (k) return bridgeNeedsMedia(d, k.rc);
      return pools.get(d.binding.poolKey).then((rc) => bridgeNeedsMedia(d, rc));
    },
    env,
    liveEndpoints: () => link.liveEndpoints(),
    waitUp: (ms) => link.waitUp(ms),
    stop: () => {
      clearInterval(poolTimer);
      return link.stop();
    },
  };
}

/** The FreeSWITCH link of config (FREESWITCH_*, MEDIA_*), reporting into ctx.health.media. */
function mediaLink(ctx: AppContext, srf: Srf, log: Logger): MediaLink {
  const { config } = ctx;
  const [advHost, advPort] = (config.MEDIA_ADVERTISED_ADDRESS ?? '').split(':');
  return new MediaLink(
    srf,
    {
      host: config.FREESWITCH_HOST,
      port: config.FREESWITCH_PORT,
      secret: config.FREESWITCH_SECRET,
      listenAddress: config.MEDIA_LISTEN_ADDRESS,
      listenPort: config.MEDIA_LISTEN_PORT,
      ...(advHost ? { advertisedAddress: advHost } : {}),
      ...(advPort ? { advertisedPort: Number(advPort) } : {}),
    },
    log,
    (up) => {
      ctx.health.media = up;
    },
  );
}
