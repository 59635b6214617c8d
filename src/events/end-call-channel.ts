// "End this call" across instances: the API side publishes the call id on a Redis channel, every
// SIP instance listens and the one holding the call ends it (the console's Live page, Huawei's
// callStop). Pub/sub reaches every node's subscribers on Redis Cluster as well.
// A message is JSON `{callId, controlType?}`; a bare call id (an instance of an older version) is
// read as `{callId}`.
import type { Cluster, Redis } from 'ioredis';

export const END_CALL_CHANNEL = 'xline:control:end-call';

/** Why the call is ended, for its CDR: control_type (absent: an operator, as before). */
export interface EndCallReason {
  controlType?: string;
}

/** Resolves how many subscribers (SIP instances) received it. */
export async function publishEndCall(redis: Redis | Cluster, callId: string, reason: EndCallReason = {}): Promise<number> {
  return Number(await redis.publish(END_CALL_CHANNEL, JSON.stringify({ callId, ...reason })));
}

/** The call id and reason of a message on the channel (undefined when it names no call). */
export function readEndCall(message: string): ({ callId: string } & EndCallReason) | undefined {
  if (message.startsWith('{')) {
    try {
      const m = JSON.parse(message) as { callId?: unknown; controlType?: unknown };
      if (typeof m.callId !== 'string' || !m.callId) return undefined;
      return { callId: m.callId, ...(typeof m.controlType === 'string' ? { controlType: m.controlType } : {}) };
    } catch {
      // not JSON: a bare call id
    }
  }
  return message ? { callId: message } : undefined;
}

/**
 * Subscribes on its own connection (a subscribed connection can do nothing else); `onEnd` is
 * called with each call id and its reason. Returns a function that unsubscribes and closes that
 * connection.
 */
export function subscribeEndCall(redis: Redis | Cluster, onEnd: (callId: string, reason: EndCallReason) => void): () => void {
  const sub = redis.duplicate();
  sub.on('error', () => undefined); // the main connection already reports Redis trouble
  sub.on('message', (channel: string, message: string) => {
    if (channel !== END_CALL_CHANNEL) return;
    const m = readEndCall(message);
    if (m) onEnd(m.callId, m.controlType ? { controlType: m.controlType } : {});
  });
  // (re)subscribe whenever the connection becomes ready: at start Redis may not be up yet
  const subscribe = () => void sub.subscribe(END_CALL_CHANNEL).catch(() => undefined);
  sub.on('ready', subscribe);
  if (sub.status === 'ready') subscribe();
  return () => sub.disconnect();
}
