// The two same-run baselines of the SIP benchmark, as small as drachtio-srf allows:
// an app that answers every INVITE itself (180 then 200), and a bare B2BUA that sends every
// INVITE on to the far end with no lookup, no events and no per-call bookkeeping beyond
// pairing the two legs' BYEs (drachtio-srf test/scripts/b2b.js).
import Srf from 'drachtio-srf';

export interface BaselineApp {
  stop(): void;
}

const SDP = ['v=0', 'o=xline 1 1 IN IP4 127.0.0.1', 's=baseline', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

function connect(srf: Srf & Srf.SrfExtras, drachtio: { port: number; secret: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    srf.on('connect', (err: Error | null) => (err ? reject(err) : resolve()));
    srf.on('error', () => {});
    srf.connect({ host: '127.0.0.1', port: drachtio.port, secret: drachtio.secret });
  });
}

export async function startAnswerOnly(drachtio: { port: number; secret: string }): Promise<BaselineApp> {
  const srf = new Srf() as Srf & Srf.SrfExtras;
  srf.invite((req, res) => {
    res.send(180);
    srf.createUAS(req, res, { localSdp: SDP }).then(
      (uas) => uas.on('destroy', () => {}),
      () => {},
    );
  });
  await connect(srf, drachtio);
  return { stop: () => srf.disconnect() };
}

export async function startBareB2bua(drachtio: { port: number; secret: string }, farEnd: string): Promise<BaselineApp> {
  const srf = new Srf() as Srf & Srf.SrfExtras;
  srf.invite((req, res) => {
    const user = Srf.parseUri(req.uri)?.user ?? 'unknown';
    srf
      .createB2BUA(req, res, `sip:${user}@${farEnd}`, { headers: { From: `<sip:${user}@localhost>` } })
      .then(({ uas, uac }) => {
        uas.on('destroy', () => void uac.destroy().catch(() => {}));
        uac.on('destroy', () => void uas.destroy().catch(() => {}));
      })
      .catch(() => {});
  });
  await connect(srf, drachtio);
  return { stop: () => srf.disconnect() };
}
