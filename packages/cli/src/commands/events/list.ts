import { EVENT_TYPES, type EventType } from '@djcast/sdk';
import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { EVENT_COLUMNS } from '../../ui/webhook-views.js';

export default class EventsList extends DjcastCommand<typeof EventsList> {
  static override summary = 'Your recent events, newest first.';
  static override flags = {
    type: Flags.string({ summary: 'Only this event type.', options: EVENT_TYPES as string[] }),
    limit: Flags.integer({ summary: 'How many (1-100).', min: 1, max: 100, default: 20 }),
  };

  async run() {
    const page = await this.client().events.list({ limit: this.flags.limit, type: this.flags.type as EventType | undefined });
    this.out.table(page.data, EVENT_COLUMNS, 'No events yet.');
    return page.data;
  }
}
