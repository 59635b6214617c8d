// drachtio-fsmrf 5.0.x ships no types: a minimal declaration of what xline calls (lib/mrf.js,
// lib/mediaserver.js, lib/endpoint.js), with the shapes those files really produce.
declare module 'drachtio-fsmrf' {
  import type { EventEmitter } from 'node:events';
  import type Srf from 'drachtio-srf';

  namespace Mrf {
    interface ConnectOptions {
      address: string;
      port?: number;
      secret?: string;
      /** Where fsmrf listens for FreeSWITCH's outbound event-socket connections (0 = any port). */
      listenAddress?: string;
      listenPort?: number;
      /** Address FreeSWITCH should dial back, when not the listen address (NAT, containers). */
      advertisedAddress?: string;
      advertisedPort?: number;
      profile?: string;
    }

    /** drachtio-modesl Event: headers of one FreeSWITCH event or command reply. */
    interface EslEvent {
      getHeader(name: string): string | undefined;
      getBody(): string;
    }

    /** drachtio-modesl inbound Connection (only what xline touches). */
    interface EslConnection extends EventEmitter {
      connected(): boolean;
      disconnect(): void;
      socket: import('node:net').Socket | null;
      reconnectOpts: { maxAttempts?: number; retryMaxDelay?: number | null; connectTimeout?: number };
    }

    interface EndpointOptions {
      /** The far end's SDP offer; absent = 3pcc: FreeSWITCH answers the INVITE with its own offer. */
      remoteSdp?: string;
      codecs?: string | string[];
      headers?: Record<string, string>;
    }

    interface PlayCollectOptions {
      file: string;
      min?: number;
      max?: number;
      tries?: number;
      /** ms to wait for the first digit after the prompt. */
      timeout?: number;
      terminators?: string;
      invalidFile?: string;
      varName?: string;
      regexp?: string;
      /** ms allowed between digits. */
      digitTimeout?: number;
    }

    interface PlayCollectResult {
      digits?: string;
      invalidDigits?: string;
      terminatorUsed?: string;
      playbackSeconds?: string;
      playbackMilliseconds?: string;
    }

    interface DtmfEvent {
      dtmf: string;
      duration?: string;
      source?: string;
    }

    class Endpoint extends EventEmitter {
      readonly uuid: string;
      readonly local: { sdp: string; mediaIp?: string; mediaPort?: string };
      readonly remote: { sdp: string; mediaIp?: string; mediaPort?: string };
      readonly dialog: Srf.Dialog;
      readonly connected: boolean;
      readonly dtmfType?: string;
      play(file: string | string[]): Promise<{ playbackSeconds?: string; playbackMilliseconds?: string }>;
      playCollect(opts: PlayCollectOptions): Promise<PlayCollectResult>;
      /** Runs a dialplan application on the channel; resolves with CHANNEL_EXECUTE_COMPLETE. */
      execute(app: string, arg?: string): Promise<EslEvent>;
      /**
       * Runs an application without waiting: returns its Application-UUID at once (the id its
       * CHANNEL_EXECUTE and CHANNEL_EXECUTE_COMPLETE events carry); `callback` gets the latter.
       */
      executeAsync(app: string, arg: string, callback: (evt: EslEvent) => void): string;
      /** This endpoint's outbound event-socket connection (its channel's events arrive on it). */
      readonly conn: EventEmitter;
      /** API command over this endpoint's outbound connection. */
      api(command: string, args?: string | string[]): Promise<EslEvent>;
      /** uuid_bridge with another endpoint. */
      bridge(other: Endpoint | string): Promise<void>;
      /** Re-INVITEs FreeSWITCH with a new remote SDP (the B leg's answer). */
      modify(sdp: string): Promise<string>;
      set(param: string | Record<string, string>, value?: string): Promise<EslEvent>;
      /** Hangs the channel up and waits for FreeSWITCH's BYE. */
      destroy(): Promise<void>;
      on(event: 'dtmf', listener: (e: DtmfEvent) => void): this;
      on(event: 'destroy', listener: (e?: { reason?: string }) => void): this;
      on(event: string, listener: (...args: unknown[]) => void): this;
    }

    class MediaServer extends EventEmitter {
      readonly address: string;
      readonly conn: EslConnection;
      readonly sip: { ipv4: { udp: { address?: string } } };
      /** From FreeSWITCH's HEARTBEAT event (every 20 s by default). */
      readonly currentSessions: number;
      readonly maxSessions: number;
      connected(): boolean;
      disconnect(): void;
      api(command: string): Promise<string>;
      createEndpoint(opts?: EndpointOptions): Promise<Endpoint>;
      connectCaller(
        req: Srf.SrfRequest,
        res: Srf.SrfResponse,
        opts?: EndpointOptions,
      ): Promise<{ endpoint: Endpoint; dialog: Srf.Dialog }>;
      on(event: 'end', listener: () => void): this;
      on(event: 'channel::open' | 'channel::close', listener: (e: { uuid?: string; countOfConnections: number }) => void): this;
      on(event: string, listener: (...args: unknown[]) => void): this;
    }
  }

  class Mrf extends EventEmitter {
    constructor(srf: Srf, opts?: { customEvents?: string[] });
    readonly localAddresses: string[];
    connect(opts: Mrf.ConnectOptions): Promise<Mrf.MediaServer>;
  }

  export = Mrf;
}
