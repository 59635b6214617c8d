// A party's RTCP must never reach the other party: phones put their SIP URI (real number and
// address) in the SDES CNAME of their RTCP. rtpengine's "generate RTCP" consumes only compound
// packets that hold a report (SR, RR or XR: the sink handler in rtcp.c hooks the report
// callback); anything else is forwarded verbatim, and phones do send such packets: baresip
// (libre) an APP "PINGPONG" as its stream starts and BYE + SDES(CNAME) as it hangs up, with no
// RR in front (rtpengine 10.5, and master too; no ng flag or option changes it, and an
// unspecified a=rtcp address is replaced by the c= address, so a relay-side dead end cannot
// be set either).
//
// So the phones' RTCP does not go to the relay at all: the description each party gets from
// the relay names the discard port (RFC 863, port 9) of the relay's address as its RTCP port
// (RFC 3605 a=rtcp), so a party's RTCP ends at the relay host, unread, and the relay's own
// reports still reach the party's RTCP port from its SDP. Multiplexed RTCP (RFC 5761) would
// share the RTP port, so rtcp-mux is taken out of what the relay sees: every party keeps RTCP
// apart (a party offering rtcp-mux must accept an answer without it, RFC 5761 §5.1.1).

const RTP_MEDIA = /^m=\S+ (\d+)(?:\/\d+)? (\S*RTP\/\S+)/;

/** A party's offer or answer as the relay is to see it: no rtcp-mux. Pure. */
export function withoutRtcpMux(sdp: string): string {
  return mapMediaLines(sdp, (line) => (/^a=rtcp-mux(-only)?\s*$/.test(line) ? undefined : line));
}

/** The relay's description for a party, its RTCP port the discard port (9) of the relay's address. Pure. */
export function rtcpToDiscard(sdp: string): string {
  return mapMediaLines(sdp, (line) => (/^a=rtcp:/.test(line) ? undefined : line), 'a=rtcp:9');
}

/**
 * Runs `map` over the attribute lines of every RTP media section with a port (m=… 0 is a
 * refused stream), dropping those it maps to undefined, and appends `add` to each such section.
 */
function mapMediaLines(sdp: string, map: (line: string) => string | undefined, add?: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  const trailing = lines.at(-1) === '' ? lines.pop() : undefined;
  const out: string[] = [];
  let inRtp = false;
  const close = () => {
    if (inRtp && add) out.push(add);
  };
  for (const line of lines) {
    const m = RTP_MEDIA.exec(line);
    if (line.startsWith('m=')) {
      close();
      inRtp = Boolean(m && Number(m[1]) > 0);
      out.push(line);
      continue;
    }
    const kept = inRtp ? map(line) : line;
    if (kept !== undefined) out.push(kept);
  }
  close();
  if (trailing !== undefined) out.push(trailing);
  return out.join(eol);
}
