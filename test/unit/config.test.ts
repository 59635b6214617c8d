import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('gives the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      ADMIN_HOST: '127.0.0.1',
      ADMIN_PORT: 8080,
      DRACHTIO_HOST: '127.0.0.1',
      DRACHTIO_PORT: 9022,
      DRACHTIO_SECRET: 'cymru',
      FREESWITCH_PORT: 8021,
      FREESWITCH_SECRET: 'ClueCon',
      SIP_TRUNK_CIDRS: '127.0.0.0/8',
      SIP_OUTBOUND_URI: 'sip:127.0.0.1:5090',
      TIMEZONE: 'Asia/Shanghai',
      ADMIN_REQUEST_TIMEOUT_MS: 10_000,
      RING_TONE_UPLOAD_TIMEOUT_MS: 120_000,
      ADMIN_MAX_CONNECTIONS: 1024,
      REDIS_APPENDFSYNC: 'everysec',
    });
    expect(c.REDIS_URL).toBeUndefined();
    expect(c.ACCESS_KEYS.size).toBe(0);
  });

  it('parses access keys and cluster nodes', () => {
    const c = loadConfig({ ACCESS_KEYS: 'id1:s1, id2:s:2', REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001' });
    expect([...c.ACCESS_KEYS]).toEqual([
      ['id1', 's1'],
      ['id2', 's:2'],
    ]);
    expect(c.REDIS_CLUSTER_NODES).toEqual(['127.0.0.1:7000', '127.0.0.1:7001']);
  });

  it('parses DRACHTIO_SERVERS into host/port pairs and refuses malformed or repeated entries', () => {
    expect(loadConfig({}).DRACHTIO_SERVERS).toBeUndefined();
    expect(loadConfig({ DRACHTIO_SERVERS: '127.0.0.1:9022, sip2.local:9023' }).DRACHTIO_SERVERS).toEqual([
      { host: '127.0.0.1', port: 9022 },
      { host: 'sip2.local', port: 9023 },
    ]);
    for (const bad of ['127.0.0.1', 'a:0', 'a:70000', 'a:1,a:1', ' , ']) {
      expect(() => loadConfig({ DRACHTIO_SERVERS: bad }), bad).toThrow(/DRACHTIO_SERVERS/);
    }
  });

  it('takes REDIS_APPENDFSYNC always, and nothing weaker than everysec', () => {
    expect(loadConfig({ REDIS_APPENDFSYNC: 'always' }).REDIS_APPENDFSYNC).toBe('always');
    expect(() => loadConfig({ REDIS_APPENDFSYNC: 'no' })).toThrow(/REDIS_APPENDFSYNC/);
  });

  it('parses RTPENGINE_NG (unset: no relay) and refuses anything but host:port', () => {
    expect(loadConfig({}).RTPENGINE_NG).toBeUndefined();
    expect(loadConfig({ RTPENGINE_NG: '127.0.0.1:22222' }).RTPENGINE_NG).toEqual({ host: '127.0.0.1', port: 22222 });
    expect(loadConfig({ RTPENGINE_NG: 'rtpengine.local:2223' }).RTPENGINE_NG).toEqual({ host: 'rtpengine.local', port: 2223 });
    for (const bad of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', 'udp:127.0.0.1:22222', ':22222', 'a b:1']) {
      expect(() => loadConfig({ RTPENGINE_NG: bad }), bad).toThrow(/RTPENGINE_NG/);
    }
  });

  it('refuses REDIS_URL together with REDIS_CLUSTER_NODES', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://x:1', REDIS_CLUSTER_NODES: 'a:1' })).toThrow(/REDIS_CLUSTER_NODES/);
  });

  it('lists every bad variable at once', () => {
    try {
      loadConfig({ ADMIN_PORT: 'eighty', ACCESS_KEYS: 'nosecret', TIMEZONE: 'Mars/Olympus', REDIS_CLUSTER_NODES: 'a' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const m = (e as Error).message;
      for (const v of ['ADMIN_PORT', 'ACCESS_KEYS', 'TIMEZONE', 'REDIS_CLUSTER_NODES']) expect(m).toContain(v);
    }
  });
});
