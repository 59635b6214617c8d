// The SDP rewrite that keeps one party's identity out of what the other receives (issue 14):
// fixtures are descriptions real phones send (baresip, Linphone, a WebRTC-style one with ICE
// and msid, FreeSWITCH), each checked for what must go and for what media needs staying intact.
import { describe, expect, it } from 'vitest';
import { connectionAddress, privateSdp, SdpPrivacy, type Origin } from '../../src/domain/sdp-privacy.js';

const crlf = (lines: string[]) => lines.join('\r\n') + '\r\n';

const BARESIP = crlf([
  'v=0',
  'o=- 1868252950 2144386428 IN IP4 192.168.1.20',
  's=-',
  'c=IN IP4 203.0.113.7',
  't=0 0',
  'a=tool:baresip 1.0.0',
  'm=audio 10490 RTP/AVP 0 8 101',
  'b=AS:64',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=rtcp-mux',
  'a=sendrecv',
  'a=label:1',
  'a=ssrc:3452109823 cname:sip:13800000001@192.168.1.20',
  'a=ssrc:3452109823 msid:alice-stream alice-track',
  'a=ssrc:3452109823 mslabel:alice-stream',
  'a=ssrc:3452109823 label:alice-track',
]);

const LINPHONE = crlf([
  'v=0',
  'o=13900000002 3061 1934 IN IP4 10.0.0.9',
  's=Talk',
  'i=Bob Callee\'s phone',
  'u=http://bob.example/me',
  'e=bob@example.com (Bob Callee)',
  'p=+86 139 0000 0002',
  'c=IN IP4 198.51.100.4',
  't=0 0',
  'a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics',
  'm=audio 7078 RTP/AVP 96 0 8 101',
  'i=Bob\'s audio',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 useinbandfec=1',
  'a=rtpmap:101 telephone-event/8000',
  'a=rtcp:7079 IN IP4 198.51.100.4',
  'a=rtcp-fb:* trr-int 1000',
  'a=rtcp-fb:* ccm tmmbr',
  'a=recvonly',
]);

const WEBRTC = crlf([
  'v=0',
  'o=mozilla...THIS_IS_SDPARTA-99.0 6318093437431786105 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=fingerprint:sha-256 AB:CD:EF',
  'a=group:BUNDLE 0',
  'a=ice-options:trickle',
  'a=msid-semantic:WMS *',
  'm=audio 52000 UDP/TLS/RTP/SAVPF 109 0',
  'c=IN IP4 198.51.100.77',
  'a=candidate:0 1 UDP 2122252543 192.168.7.7 52000 typ host',
  'a=candidate:1 1 UDP 1686052863 198.51.100.77 52000 typ srflx raddr 192.168.7.7 rport 52000',
  'a=end-of-candidates',
  'a=ice-pwd:5b6cd5a3cd4bcd1f4ed52b2fea4f8bd4',
  'a=ice-ufrag:8a5c9b2f',
  'a=ice-lite',
  'a=mid:0',
  'a=msid:{5d9d2c2c} {e5a0d5f1}',
  'a=rtcp-mux',
  'a=rtpmap:109 opus/48000/2',
  'a=setup:actpass',
  'a=ssrc:1001 cname:{a0b1c2d3-alice}',
  'a=ssrc-group:FID 1001 1002',
  'a=sendrecv',
]);

const ORIGIN: Origin = { sessionId: '4242', version: 7n, address: 'IN IP4 203.0.113.50' };
const lines = (sdp: string) => sdp.split('\r\n').filter(Boolean);

/** The rewritten head every case starts with: ORIGIN, a neutral session name. */
const HEAD = ['v=0', 'o=- 4242 7 IN IP4 203.0.113.50', 's=-'];
/** A bare description (origin, session name, timing) followed by `more`. */
const bare = (...more: string[]) => crlf(['v=0', 'o=a 1 1 IN IP4 1.2.3.4', 's=x', 't=0 0', ...more]);

/** A phone's description: what privateSdp makes of it, line by line, and what must not be left. */
const PHONES: { name: string; sdp: string; want: string[]; leaks: string[] }[] = [
  {
    name: 'baresip: origin, session name, tool, label and every ssrc attribute but a neutral cname',
    sdp: BARESIP,
    want: [
      ...HEAD,
      'c=IN IP4 203.0.113.7',
      't=0 0',
      'm=audio 10490 RTP/AVP 0 8 101',
      'b=AS:64',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=ptime:20',
      'a=rtcp-mux',
      'a=sendrecv',
      'a=ssrc:3452109823 cname:xl',
    ],
    leaks: ['13800000001', '192.168.1.20', 'baresip', 'alice', 'msid', 'label'],
  },
  {
    name: 'Linphone: the number in o=, s=, i= (session and media), u=, e=, p= all gone; media lines untouched',
    sdp: LINPHONE,
    want: [
      ...HEAD,
      'c=IN IP4 198.51.100.4',
      't=0 0',
      'a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics',
      'm=audio 7078 RTP/AVP 96 0 8 101',
      'a=rtpmap:96 opus/48000/2',
      'a=fmtp:96 useinbandfec=1',
      'a=rtpmap:101 telephone-event/8000',
      'a=rtcp:7079 IN IP4 198.51.100.4',
      'a=rtcp-fb:* trr-int 1000',
      'a=rtcp-fb:* ccm tmmbr',
      'a=recvonly',
    ],
    leaks: ['13900000002', '139 0000', 'Bob', 'bob', 'Talk', '10.0.0.9'],
  },
  {
    name: 'WebRTC-style: ICE candidates (LAN and public addresses), msid and msid-semantic go; DTLS, BUNDLE, mux stay',
    sdp: WEBRTC,
    want: [
      ...HEAD,
      't=0 0',
      'a=fingerprint:sha-256 AB:CD:EF',
      'a=group:BUNDLE 0',
      'm=audio 52000 UDP/TLS/RTP/SAVPF 109 0',
      'c=IN IP4 198.51.100.77',
      'a=mid:0',
      'a=rtcp-mux',
      'a=rtpmap:109 opus/48000/2',
      'a=setup:actpass',
      'a=ssrc:1001 cname:xl',
      'a=ssrc-group:FID 1001 1002',
      'a=sendrecv',
    ],
    leaks: ['192.168.7.7', 'mozilla', 'ice-', 'candidate', 'alice', '5d9d2c2c'],
  },
];

describe('privateSdp', () => {
  for (const c of PHONES) {
    it(c.name, () => {
      const out = privateSdp(c.sdp, ORIGIN, 'xl');
      expect(lines(out)).toEqual(c.want);
      for (const leak of c.leaks) expect(out).not.toContain(leak);
    });
  }

  it('writes CRLF whatever the input used, drops blank lines, ends with one CRLF', () => {
    const lf = BARESIP.replace(/\r\n/g, '\n') + '\n\n';
    const out = privateSdp(lf, ORIGIN, 'xl');
    expect(out).toBe(privateSdp(BARESIP, ORIGIN, 'xl'));
    expect(out.endsWith('a=ssrc:3452109823 cname:xl\r\n')).toBe(true);
    expect(out).not.toMatch(/[^\r]\n/);
  });

  it('is idempotent: rewriting its own output changes nothing', () => {
    for (const sdp of [BARESIP, LINPHONE, WEBRTC]) {
      const once = privateSdp(sdp, ORIGIN, 'xl');
      expect(privateSdp(once, ORIGIN, 'xl')).toBe(once);
    }
  });

  it('ssrc lines with unknown or odd attributes are dropped, never passed through', () => {
    const out = privateSdp(bare('m=audio 1 RTP/AVP 0', 'a=ssrc:1 x-user:13800000001', 'a=ssrc:oops', 'a=SSRC:2 CNAME:13800000001'), ORIGIN, 'xl');
    expect(out).not.toContain('13800000001');
    expect(out).toContain('a=ssrc:2 cname:xl\r\n');
    expect(out).not.toContain('oops');
  });

  it('attribute names match case-insensitively (a=Tool, a=MSID)', () => {
    const out = privateSdp(bare('a=Tool:Acme 9', 'm=audio 1 RTP/AVP 0', 'a=MSID:x y'), ORIGIN, 'xl');
    expect(out).not.toMatch(/Acme|MSID/);
  });
});

describe('connectionAddress', () => {
  it('session-level c= first, else the first media-level one; IPv6; no TTL or count suffix', () => {
    expect(connectionAddress(BARESIP)).toBe('IN IP4 203.0.113.7');
    expect(connectionAddress(WEBRTC)).toBe('IN IP4 198.51.100.77');
    expect(connectionAddress('v=0\r\nc=IN IP6 2001:db8::1\r\n')).toBe('IN IP6 2001:db8::1');
    expect(connectionAddress('v=0\r\nc=IN IP4 224.2.1.1/127/3\r\n')).toBe('IN IP4 224.2.1.1');
    expect(connectionAddress('v=0\r\nm=audio 1 RTP/AVP 0\r\n')).toBeUndefined();
  });
});

describe('SdpPrivacy: one per party per dialog', () => {
  it('keeps one session id and address; bumps the version exactly when the description changes', () => {
    const p = new SdpPrivacy('777', 'tok');
    const first = p.rewrite(LINPHONE);
    expect(first).toContain('o=- 777 1 IN IP4 198.51.100.4\r\n');
    // the same answer again (183 then 200, or a retransmission): same version
    expect(p.rewrite(LINPHONE)).toBe(first);
    // a re-INVITE putting the call on hold from a new address: version 2, origin address kept
    const hold = p.rewrite(LINPHONE.replace('a=recvonly', 'a=sendonly').replace(/198\.51\.100\.4/g, '198.51.100.5'));
    expect(hold).toContain('o=- 777 2 IN IP4 198.51.100.4\r\n');
    expect(hold).toContain('c=IN IP4 198.51.100.5\r\n');
    // a change only in what is dropped (the phone's own origin version) is no change
    expect(p.rewrite(LINPHONE.replace('a=recvonly', 'a=sendonly').replace(/198\.51\.100\.4/g, '198.51.100.5').replace('3061 1934', '3061 1935'))).toBe(hold);
    expect(p.current).toBe(hold);
    // back to the first description: still a change, version 3
    expect(p.rewrite(LINPHONE)).toContain('o=- 777 3 IN IP4 198.51.100.4\r\n');
  });

  it('without any c= line the origin says 0.0.0.0, never the phone\'s own origin address', () => {
    const p = new SdpPrivacy('1', 't');
    expect(p.rewrite('v=0\r\no=alice 1 1 IN IP4 10.9.9.9\r\ns=a\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n')).toContain('o=- 1 1 IN IP4 0.0.0.0\r\n');
  });

  it('nothing before the first description', () => {
    expect(new SdpPrivacy('1', 't').current).toBeUndefined();
  });
});
