// OPTIONS to xline's SIP address (out of dialog): trunks and SBCs ping their peer and stop
// sending calls to one that does not answer 200. The answer tells the truth about calls: 200
// while an INVITE would be routed, 503 while xline drains (SIGTERM) or Redis does not answer —
// every INVITE would be refused 503 cause 41 then. FreeSWITCH being down does not count: plain
// bridges do not need it. Sources outside SIP_TRUNK_CIDRS get 403, as their INVITEs do, and
// cost no Redis round trip.
import type Srf from 'drachtio-srf';
import { Q850 } from '../domain/route.js';
import type { Logger } from '../log.js';
import type { AddressList } from './cidr.js';
import { reasonHeader } from './q850.js';

/** What xline does with the requests it accepts (RFC 3261 §11.2: Allow in OPTIONS answers). */
export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK';
/** Option tags xline honours on calls it bridges (100rel: see the B leg in call-session.ts). */
export const SUPPORTED = '100rel';

export interface OptionsDeps {
  trunks: AddressList;
  draining(): boolean;
  /** Redis answers (within its own deadline); never rejects. */
  storeUp(): Promise<boolean>;
  log: Logger;
}

export function answerOptions(d: OptionsDeps): (req: Srf.SrfRequest, res: Srf.SrfResponse) => void {
  return (req, res) => {
    if (!d.trunks.has(req.source_address)) {
      res.send(403, undefined, { headers: { Reason: reasonHeader(Q850.CALL_REJECTED, 'source not allowed') } });
      return;
    }
    const headers = { Allow: ALLOW, Supported: SUPPORTED, Accept: 'application/sdp' };
    if (d.draining()) {
      res.send(503, undefined, { headers: { ...headers, Reason: reasonHeader(Q850.TEMPORARY_FAILURE, 'shutting down') } });
      return;
    }
    d.storeUp().then(
      (up) => {
        if (up) res.send(200, undefined, { headers });
        else {
          d.log.debug({ source: req.source_address }, 'OPTIONS answered 503: binding store unavailable');
          res.send(503, undefined, { headers: { ...headers, Reason: reasonHeader(Q850.TEMPORARY_FAILURE, 'binding store unavailable') } });
        }
      },
      () => res.send(503, undefined, { headers }),
    );
  };
}
