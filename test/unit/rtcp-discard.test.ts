// The two SDP transforms that keep the phones' RTCP away from the relay (and so from each
// other): no rtcp-mux in what the relay sees, the discard port as RTCP port in what parties get.
import { describe, expect, it } from 'vitest';
import { rtcpToDiscard, withoutRtcpMux } from '../../src/media-relay/rtcp-discard.js';

const sdp = (...lines: string[]) => [...lines, ''].join('\r\n');

const RELAY = sdp(
  'v=0',
  'o=- 1 2 IN IP4 203.0.113.7',
  's=-',
  'c=IN IP4 203.0.113.7',
  't=0 0',
  'm=audio 30000 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtcp:30001',
  'a=sendrecv',
  'm=video 0 RTP/AVP 96',
  'm=image 30010 udptl t38',
  'a=T38FaxVersion:0',
);

describe('rtcp-discard', () => {
  it("the parties' RTCP port is the discard port: a=rtcp replaced in each RTP section with a port, nowhere else", () => {
    expect(rtcpToDiscard(RELAY)).toBe(
      sdp(
        'v=0',
        'o=- 1 2 IN IP4 203.0.113.7',
        's=-',
        'c=IN IP4 203.0.113.7',
        't=0 0',
        'm=audio 30000 RTP/AVP 0 101',
        'a=rtpmap:0 PCMU/8000',
        'a=sendrecv',
        'a=rtcp:9',
        'm=video 0 RTP/AVP 96',
        'm=image 30010 udptl t38',
        'a=T38FaxVersion:0',
      ),
    );
  });

  it('a relay description without a=rtcp (or with the full form) gets a=rtcp:9 too; LF line ends stay LF', () => {
    const lf = 'v=0\nc=IN IP4 203.0.113.7\nm=audio 30000 RTP/SAVP 0\na=rtcp:30001 IN IP4 203.0.113.7\nm=audio 30002 RTP/AVP 8\n';
    expect(rtcpToDiscard(lf)).toBe('v=0\nc=IN IP4 203.0.113.7\nm=audio 30000 RTP/SAVP 0\na=rtcp:9\nm=audio 30002 RTP/AVP 8\na=rtcp:9\n');
  });

  it('what the relay sees of a party: no rtcp-mux (nor rtcp-mux-only) in RTP sections, the rest untouched', () => {
    const party = sdp('v=0', 'c=IN IP4 198.51.100.4', 'm=audio 7078 RTP/AVP 0', 'a=rtcp-mux', 'a=rtcp-mux-only', 'a=rtcp:7079', 'a=rtcp-fb:* nack');
    expect(withoutRtcpMux(party)).toBe(sdp('v=0', 'c=IN IP4 198.51.100.4', 'm=audio 7078 RTP/AVP 0', 'a=rtcp:7079', 'a=rtcp-fb:* nack'));
  });
});
