// The early dialogs of a plain bridge (A ↔ xline ↔ B before B answers): reliable provisional
// responses (RFC 3262 100rel / PRACK) and UPDATE before the answer (RFC 3311).
// - B leg: xline offers 100rel (`Supported: 100rel`, CallSession.bLeg) and drachtio-srf PRACKs
//   each reliable 18x of B at once, so a trunk that requires 100rel can be called.
// - A leg: an 18x relayed to the caller goes reliably (`Require: 100rel`: drachtio-server adds
//   RSeq and retransmits until the caller's PRACK, which it answers) when the caller requires
//   100rel, or supports it and B sent that 18x reliably. Each leg's PRACK stays on its leg.
// - The caller's UPDATE before the answer is sent into B's early dialog (drachtio-server keeps one
//   once B sent a reliable 18x) and B's answer comes back. Without that dialog it is answered with
//   B's latest early SDP, as drachtio-srf does. B's UPDATE before the answer cannot reach the
//   caller (drachtio-server keeps no early dialog on the caller's side): drachtio-srf answers it
//   with the offer B was sent (already rewritten).
import type { Socket } from 'node:net';
import type Srf from 'drachtio-srf';
import type { Logger } from '../log.js';
import { SDP } from './legs.js';

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;

/** What the caller's INVITE said about 100rel. */
export type CallerReliability = 'required' | 'supported' | 'none';

const HAS_100REL = /(^|[\s,])100rel($|[\s,;])/i;

export function callerReliability(invite: Pick<Req, 'has' | 'get'>): CallerReliability {
  const tags = (name: string) => (invite.has(name) ? invite.get(name) : '');
  if (HAS_100REL.test(tags('Require'))) return 'required';
  if (HAS_100REL.test(tags('Supported'))) return 'supported';
  return 'none';
}

/** Whether B's provisional response `status` (reliable or not) goes to the caller reliably. */
export function reliableToCaller(caller: CallerReliability, status: number, bReliable: boolean): boolean {
  if (status <= 100 || status >= 200) return false;
  return caller === 'required' || (caller === 'supported' && bReliable);
}

/** How an UPDATE's SDP crosses the bridge: through the call's relay and privacy rewrite (CallSdp). */
export interface EarlyMedia {
  /** The caller's offer as B is to receive it. */
  offerToB(sdp: string): Promise<string>;
  /** B's answer as the caller is to receive it. */
  answerToCaller(sdp: string): Promise<string>;
  /** The description the caller was last given (B's, rewritten). */
  lastToCaller(): string | undefined;
}

/** Headers relayed with an UPDATE and its answer (the SDP's framing, nothing of either party). */
const UPDATE_PASS = ['Content-Type', 'Content-Disposition'];

export class EarlyDialogs {
  /** drachtio-server's id of B's early dialog (from B's first reliable 18x). */
  private bDialog?: string;
  private bSocket?: Socket;

  constructor(
    private readonly srf: Srf & Srf.SrfExtras,
    private readonly caller: CallerReliability,
    private readonly log: Logger,
    private readonly media: EarlyMedia,
  ) {}

  /** createB2BUA's responseHeaders: `require` in lower case is also what makes drachtio-srf wait for the PRACK. */
  responseHeaders(bRes: Res): Record<string, string> {
    return reliableToCaller(this.caller, bRes.status, bRes.has('RSeq')) ? { require: '100rel' } : {};
  }

  /** The B INVITE has left: follow B's early dialog, and take over the caller's UPDATEs from drachtio-srf. */
  attach(callerInvite: Req, bInvite: Req): void {
    bInvite.on('response', (r: Res) => {
      if (r.status <= 100 || r.status >= 200) return;
      // drachtio-agent.js sets both on every response it hands up.
      const { stackDialogId, socket } = r as unknown as { stackDialogId?: string; socket?: Socket };
      if (r.has('RSeq') && stackDialogId && socket && !this.bDialog) {
        this.bDialog = stackDialogId;
        this.bSocket = socket;
      }
    });
    callerInvite.removeAllListeners('update');
    callerInvite.on('update', (req, res) => void this.relayUpdate(req, res));
  }

  private async relayUpdate(req: Req, res: Res): Promise<void> {
    const dialogId = this.bDialog;
    if (!dialogId || !this.bSocket) {
      // No early dialog with B to carry it: drachtio-srf's answer (B's SDP as the caller has it).
      const last = this.media.lastToCaller();
      if (!req.body) res.send(200);
      else if (last) res.send(200, { headers: SDP, body: last });
      else res.send(500, { headers: { 'Retry-After': '5' } });
      return;
    }
    try {
      const headers: Record<string, string> = {};
      for (const h of UPDATE_PASS) if (req.has(h)) headers[h] = req.get(h);
      const offer = req.body ? await this.media.offerToB(req.body) : undefined;
      const r = await this.request(this.bSocket, dialogId, 'UPDATE', headers, offer);
      const back: Record<string, string> = {};
      for (const h of UPDATE_PASS) if (r.body && r.has(h)) back[h] = r.get(h);
      const answer = r.status >= 200 && r.status < 300 && r.body ? await this.media.answerToCaller(r.body) : undefined;
      res.send(r.status, { headers: back, ...(answer ? { body: answer } : {}) });
    } catch (err) {
      this.log.info({ err: String(err) }, 'EarlyDialogs:UPDATE relay to B failed');
      res.send(500, { headers: { 'Retry-After': '5' } });
    }
  }

  /** A request inside B's early dialog: drachtio-server routes 'sip:placeholder' to B's Contact. */
  private request(socket: Socket, dialogId: string, method: 'UPDATE', headers: Record<string, string>, body?: string): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.srf.request(socket, 'sip:placeholder', { method, stackDialogId: dialogId, headers, ...(body ? { body } : {}) }, (err, sent) => {
        if (err || !sent) return reject(err instanceof Error ? err : new Error(String(err ?? 'request not sent')));
        sent.on('response', (r: Res) => {
          if (r.status >= 200) resolve(r);
        });
      });
    });
  }
}
