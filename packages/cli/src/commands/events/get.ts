import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { EVENT_FIELDS } from '../../ui/webhook-views.js';

export default class EventsGet extends DjcastCommand<typeof EventsGet> {
  static override summary = 'Show one event, as it was delivered.';
  static override args = { id: Args.string({ description: 'Event id (evt_…).', required: true }) };

  async run() {
    const event = await this.client().events.get(this.args.id);
    this.out.record(event, EVENT_FIELDS);
    return event;
  }
}
