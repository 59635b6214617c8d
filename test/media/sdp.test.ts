import { describe, expect, it } from 'vitest';
import { anonymous, audioAddress, withOrigin } from '../../src/media/sdp.js';

const fs = 'v=0\r\no=FreeSWITCH 1795798084 1795798085 IN IP4 127.0.0.1\r\ns=FreeSWITCH\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 45310 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n';
const bob = 'v=0\r\no=bob 1 1 IN IP4 10.0.0.2\r\ns=xline-b-answer\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n';

describe('SDP for media hand-off', () => {
  it("keeps the origin the peer knows, bumps its version, takes the other party's media", () => {
    const out = withOrigin(bob, fs);
    expect(out).toContain('o=FreeSWITCH 1795798084 1795798086 IN IP4 127.0.0.1\r\n');
    expect(out).toContain('m=audio 40000 RTP/AVP 0 101');
    expect(out).toContain('c=IN IP4 10.0.0.2');
    expect(out).not.toContain('o=bob');
  });
  it('versions beyond 2^53 stay exact', () => {
    expect(withOrigin(bob, fs.replace('1795798085', '9007199254740993'))).toContain(' 9007199254740994 IN IP4');
  });
  it('leaves SDP without an origin alone', () => {
    expect(withOrigin('v=0\r\nm=audio 1 RTP/AVP 0\r\n', fs)).toBe('v=0\r\nm=audio 1 RTP/AVP 0\r\n');
  });
  it('reads the audio address, media-level c= first', () => {
    expect(audioAddress(bob)).toBe('10.0.0.2:40000');
    expect(audioAddress(bob.replace('m=audio 40000 RTP/AVP 0 101\r\n', 'm=audio 40000 RTP/AVP 0 101\r\nc=IN IP4 10.0.0.9\r\n'))).toBe('10.0.0.9:40000');
  });
  it("hides the caller's origin user and session name, keeps the media", () => {
    const phone = 'v=0\r\no=13812345678 5 7 IN IP4 10.1.1.1\r\ns=Alice phone\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
    const out = anonymous(phone, '42');
    expect(out).toContain('o=xline 42 1 IN IP4 10.1.1.1\r\n');
    expect(out).toContain('s=xline\r\n');
    expect(out).not.toContain('13812345678');
    expect(out).not.toContain('Alice');
    expect(audioAddress(out)).toBe('10.1.1.1:4000');
  });
});
