// What the caller hears from FreeSWITCH while B rings: one `playback` on the caller's endpoint
// (a tone_stream that never ends, or a ring tone repeated past the ring timeout — one command,
// so one break stops it; endless_playback would ignore the break), started and stopped over
// that endpoint's own event socket.
//
// Stopping never waits for the playback to report its end. `uuid_break <uuid> all`, sent on the
// same socket as the playback command and so handled after it, stops a playback that runs and
// drops one still queued on the channel; a dropped one never reports completion. That is what
// happens when B answers within milliseconds of the ring starting: waiting for the report cost
// the caller 2 s of silence after B's answer (issue 14). FreeSWITCH clears the break flag as an
// application starts, so a playback that began at the very moment of the break would play on:
// its start (CHANNEL_EXECUTE) seen after the stop breaks it again.
import type Mrf from 'drachtio-fsmrf';
import type { Logger } from '../log.js';

export class Ringback {
  private readonly appUuid: string;
  private readonly event: string;
  private finished = false;
  private stopping = false;

  constructor(
    private readonly ep: Mrf.Endpoint,
    source: string,
    private readonly log: Logger,
  ) {
    this.event = `esl::event::CHANNEL_EXECUTE::${ep.uuid}`;
    ep.conn.on(this.event, this.onExecute);
    this.appUuid = ep.executeAsync('playback', source, (evt) => {
      this.finished = true;
      ep.conn.off(this.event, this.onExecute);
      if (evt.getHeader('Application-Response') === 'FILE NOT FOUND') log.warn({ source }, 'Ringback: ring tone not playable');
    });
  }

  /** Stops the ring: resolves once FreeSWITCH took the break, not when the playback reports its end. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.finished) return;
    await this.break(true);
  }

  private readonly onExecute = (evt: Mrf.EslEvent): void => {
    if (evt.getHeader('Application-UUID') !== this.appUuid) return;
    this.ep.conn.off(this.event, this.onExecute);
    if (this.stopping && !this.finished) void this.break(false);
  };

  private async break(all: boolean): Promise<void> {
    try {
      await this.ep.api('uuid_break', all ? `${this.ep.uuid} all` : this.ep.uuid);
    } catch (err) {
      // The endpoint is gone (call ended, FreeSWITCH lost): nothing plays any more.
      this.log.debug({ err: String(err) }, 'Ringback: break not sent');
    }
  }
}
