// SDP surgery for handing media from FreeSWITCH to the two parties (re-INVITEs): each side must
// keep seeing the origin (o=) it has seen so far in this session, with its version bumped
// (RFC 3264 §8), while the media description comes from the other party. Pure.

const ORIGIN = /^o=(\S+) (\S+) (\d+) (\S+) (\S+) (\S+)/m;

/** `media`'s SDP with the origin line of `previous` (what this peer last got from us), version + 1. */
export function withOrigin(media: string, previous: string): string {
  const prev = ORIGIN.exec(previous);
  if (!prev || !ORIGIN.test(media)) return media;
  const version = (BigInt(prev[3]!) + 1n).toString();
  return media.replace(ORIGIN, `o=${prev[1]} ${prev[2]} ${version} ${prev[4]} ${prev[5]} ${prev[6]}`);
}

/** Connection address and port of the first audio stream, e.g. "127.0.0.1:40000". */
export function audioAddress(sdp: string): string | undefined {
  const port = /^m=audio (\d+)/m.exec(sdp)?.[1];
  const sessionC = /^c=IN IP[46] (\S+)/m.exec(sdp)?.[1];
  const audio = sdp.split(/^m=/m).find((s) => s.startsWith('audio'));
  const mediaC = audio ? /^c=IN IP[46] (\S+)/m.exec(audio)?.[1] : undefined;
  const host = mediaC ?? sessionC;
  return port && host ? `${host}:${port}` : undefined;
}

/**
 * The caller's offer as B may see it: its origin user and session name (a phone may put its
 * number or name there) replaced; the media description is untouched.
 */
export function anonymous(sdp: string, sessionId: string): string {
  return sdp
    .replace(ORIGIN, (_m, _user: string, _id: string, _ver: string, net: string, type: string, addr: string) => `o=xline ${sessionId} 1 ${net} ${type} ${addr}`)
    .replace(/^s=.*$/m, 's=xline');
}
