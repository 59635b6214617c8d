// Gaps in drachtio-srf's shipped types (lib/@types/index.d.ts), filled only for what xline
// calls. Each entry matches drachtio-srf 5.0.x's lib/*.js behaviour.
import 'drachtio-srf';

declare module 'drachtio-srf' {
  // drachtio-srf uses `export =`: declarations here merge into its exported namespace Srf.
  /** What the INVITE middleware learns about a call, step by step (req.locals). */
  interface RequestLocals {
    [key: string]: unknown;
  }

  interface SipMessage {
    /** The header's name as it appears in the message, or undefined when absent. */
    getHeaderName(name: string): string | undefined;
    /** Display name of From, when present. */
    readonly callingName?: string;
  }

  interface SrfRequest {
    /** Per-request scratch space shared by middleware steps (not in shipped types). */
    locals: RequestLocals;
    /** Transaction and dialog ids drachtio-server assigned (request.js meta). */
    readonly stackTxnId?: string;
    readonly stackDialogId?: string;
    /** Emitted when the response arrives for a request the app sent (UAC side). */
    on(event: 'response', listener: (res: SrfResponse, ack?: (opts?: { body?: string }) => void) => void): this;
    on(event: 'cancel', listener: (cancel: SipMessage) => void): this;
    on(event: 'update', listener: (req: SrfRequest, res: SrfResponse) => void): this;
    removeAllListeners(event?: string): this;
    /** UAC request: send a CANCEL for it (request.js takes opts then callback). */
    cancel(opts?: { headers?: Record<string, string> }, callback?: (err: unknown, req: SrfRequest) => void): void;
  }

  interface SrfResponse {
    send(status: number, reason: string | undefined, opts: { headers?: Record<string, string>; body?: string }, callback?: (err: unknown, msg: SipMessage) => void): void;
  }

  interface Dialog {
    /** Still established (dialog.js sets false on BYE/destroy). */
    connected: boolean;
    /** Shipped types say void; dialog.js returns a Promise when no callback is given. */
    destroy(opts?: { headers?: Record<string, string> }): Promise<SrfRequest>;
    /** In-dialog request; resolves with the far end's final response. */
    request(opts: { method: SipMethod; headers?: Record<string, string>; body?: string }): Promise<SrfResponse>;
    modify(sdp: string): Promise<string>;
    on(event: 'destroy', listener: (bye: SrfRequest, reason?: string) => void): this;
    on(event: 'modify' | 'update' | 'info' | 'refer' | 'notify' | 'options' | 'message', listener: (req: SrfRequest, res: SrfResponse) => void): this;
    removeAllListeners(event?: string): this;
  }

  /** A SIP non-success final response (lib/sip_error.js). */
  class SipError extends Error {
    constructor(status: number, reason?: string);
    status: number;
    reason?: string;
    res?: SrfResponse;
  }

  interface SrfConfig {
    /** wire-protocol.js: back-off cap (ms) and attempt limit; unset maxAttempts = forever. */
    reconnect?: { retryMaxDelay?: number; maxAttempts?: number; connectTimeout?: number };
    enablePing?: boolean;
    pingInterval?: number;
  }

  /**
   * Members of the Srf class that its types leave out. A module augmentation cannot reach a
   * class exported with `export =`, so code takes `Srf & Srf.SrfExtras` (see src/sip/app.ts).
   */
  interface SrfExtras {
    endSession(req: SrfRequest): void;
    disconnect(): void;
    /** true when no transaction or dialog is pending in the agent (proto.js). */
    readonly idle: boolean;
    /**
     * A request on drachtio-server's connection `socket`; with `stackDialogId` it goes inside that
     * dialog (an early one too, once a reliable 18x made it) and 'sip:placeholder' becomes the
     * dialog's remote target (srf.js request → drachtio-agent.js _makeRequest).
     */
    request(
      socket: import('node:net').Socket,
      uri: string,
      opts: { method: SipMethod; stackDialogId?: string; headers?: Record<string, string>; body?: string },
      callback: (err: unknown, req?: SrfRequest) => void,
    ): void;
    /** Out-of-dialog OPTIONS handler (connect.js makes one such method per SIP method). */
    options(handler: (req: SrfRequest, res: SrfResponse) => void): void;
    use(method: string, step: (req: SrfRequest, res: SrfResponse, next: (err?: unknown) => void) => void): void;
    on(event: 'reconnecting', listener: (info: { delay: number; attempt: number }) => void): this;
    on(event: 'close', listener: () => void): this;
    on(event: 'connect', listener: (err: Error | null, hostport: string, serverVersion?: string) => void): this;
  }
}
