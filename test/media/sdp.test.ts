import { describe, expect, it } from 'vitest';
import { audioAddress } from '../../src/media/sdp.js';

const bob = 'v=0\r\no=bob 1 1 IN IP4 10.0.0.2\r\ns=xline-b-answer\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n';

describe('SDP for media hand-off', () => {
  it('reads the audio address, media-level c= first', () => {
    expect(audioAddress(bob)).toBe('10.0.0.2:40000');
    expect(audioAddress(bob.replace('m=audio 40000 RTP/AVP 0 101\r\n', 'm=audio 40000 RTP/AVP 0 101\r\nc=IN IP4 10.0.0.9\r\n'))).toBe('10.0.0.9:40000');
  });
});
