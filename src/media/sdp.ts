// Reading SDP for media decisions. Pure. (What each party may see of the other's SDP, origin
// continuity across re-INVITEs included, is src/domain/sdp-privacy.ts.)

/** Connection address and port of the first audio stream, e.g. "127.0.0.1:40000". */
export function audioAddress(sdp: string): string | undefined {
  const port = /^m=audio (\d+)/m.exec(sdp)?.[1];
  const sessionC = /^c=IN IP[46] (\S+)/m.exec(sdp)?.[1];
  const audio = sdp.split(/^m=/m).find((s) => s.startsWith('audio'));
  const mediaC = audio ? /^c=IN IP[46] (\S+)/m.exec(audio)?.[1] : undefined;
  const host = mediaC ?? sessionC;
  return port && host ? `${host}:${port}` : undefined;
}
