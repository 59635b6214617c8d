// "End this call" across instances: the API side publishes the call id on a Redis channel, every
// SIP instance listens and the one holding the call ends it (the console's Live page). Pub/sub
// reaches every node's subscribers on Redis Cluster as well.
import type { Cluster, Redis } from 'ioredis';

export const END_CALL_CHANNEL = 'xline:control:end-call';

/** Resolves how many subscribers (SIP instances) received it. */
export async function publishEndCall(redis: Redis | Cluster, callId: string): Promise<number> {
  return Number(await redis.publish(END_CALL_CHANNEL, callId));
}

/**
 * Subscribes on its own connection (a subscribed connection can do nothing else); `onEnd` is
 * called with each call id. Returns a function that unsubscribes and closes that connection.
 */
export function subscribeEndCall(redis: Redis | Cluster, onEnd: (callId: string) => void): () => void {
  const sub = redis.duplicate();
  sub.on('error', () => undefined); // the main connection already reports Redis trouble
  sub.on('message', (channel: string, message: string) => {
    if (channel === END_CALL_CHANNEL) onEnd(message);
  });
  // (re)subscribe whenever the connection becomes ready: at start Redis may not be up yet
  const subscribe = () => void sub.subscribe(END_CALL_CHANNEL).catch(() => undefined);
  sub.on('ready', subscribe);
  if (sub.status === 'ready') subscribe();
  return () => sub.disconnect();
}
