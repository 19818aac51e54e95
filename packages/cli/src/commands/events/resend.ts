import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';

export default class EventsResend extends DjcastCommand<typeof EventsResend> {
  static override summary = 'Deliver an event again, to one endpoint or every enabled endpoint subscribed to its type.';
  static override args = { id: Args.string({ description: 'Event id (evt_…).', required: true }) };
  static override flags = { endpoint: Flags.string({ summary: 'Only to this endpoint (whe_…).' }) };

  async run() {
    const result = await this.client().events.resend(this.args.id, this.flags.endpoint);
    this.out.info(
      result.deliveries.length === 0
        ? `No enabled endpoint receives ${this.args.id}'s type; nothing was queued.`
        : `Queued ${result.deliveries.length} deliver${result.deliveries.length === 1 ? 'y' : 'ies'} of ${this.args.id}.`,
    );
    return result;
  }
}
