// The end-call channel's message: JSON {callId, controlType?} (the console, Huawei's callStop), and a
// bare call id as an instance of an older version publishes it.
import { describe, expect, it } from 'vitest';
import { readEndCall } from '../../src/events/end-call-channel.js';

describe('end-call channel messages', () => {
  it('read the call id and the control type', () => {
    expect(readEndCall(JSON.stringify({ callId: 'a@b', controlType: 'call-stop' }))).toEqual({ callId: 'a@b', controlType: 'call-stop' });
    expect(readEndCall(JSON.stringify({ callId: 'a@b' }))).toEqual({ callId: 'a@b' });
  });
  it('a bare call id (even one starting with a brace) is a call id', () => {
    expect(readEndCall('1-2345@127.0.0.1')).toEqual({ callId: '1-2345@127.0.0.1' });
    expect(readEndCall('{odd-but-legal-call-id')).toEqual({ callId: '{odd-but-legal-call-id' });
  });
  it('name no call when empty or without a call id', () => {
    expect(readEndCall('')).toBeUndefined();
    expect(readEndCall(JSON.stringify({ controlType: 'call-stop' }))).toBeUndefined();
    expect(readEndCall(JSON.stringify({ callId: 7 }))).toBeUndefined();
  });
});
