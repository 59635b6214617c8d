// rtpengine-client 0.4.x ships no types: what xline calls (lib/Client.js, lib/BaseClient.js).
// Each command takes the destination and an ng dictionary and resolves with rtpengine's reply
// dictionary (result 'ok' | 'error' | 'pong', 'error-reason', 'warning', 'sdp', 'calls' ...).
declare module 'rtpengine-client' {
  import type { EventEmitter } from 'node:events';

  interface Destination {
    host: string;
    port: number;
  }

  type NgReply = Record<string, unknown> & { result?: string; 'error-reason'?: string; warning?: string; sdp?: string };

  class Client extends EventEmitter {
    /** UDP client; `timeout` (ms) rejects a command rtpengine does not answer in time. */
    constructor(opts?: { localPort?: number; localAddress?: string; timeout?: number });
    ping(dest: Destination): Promise<NgReply>;
    offer(dest: Destination, opts: Record<string, unknown>): Promise<NgReply>;
    answer(dest: Destination, opts: Record<string, unknown>): Promise<NgReply>;
    delete(dest: Destination, opts: Record<string, unknown>): Promise<NgReply>;
    query(dest: Destination, opts: Record<string, unknown>): Promise<NgReply>;
    list(dest: Destination, opts?: Record<string, unknown>): Promise<NgReply>;
    close(): void;
  }
}
