import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { SUBSCRIPTION_COLUMNS } from '../../ui/billing-views.js';

export default class SubscriptionList extends DjcastCommand<typeof SubscriptionList> {
  static override summary = 'List your subscriptions (or, with --as dj, the subscriptions to your plans).';
  static override flags = {
    as: Flags.string({ summary: 'Whose view.', options: ['listener', 'dj'], default: 'listener' }),
  };

  async run() {
    const subs = [];
    for await (const s of this.client().subscriptions.iterate({ role: this.flags.as as 'listener' | 'dj' })) subs.push(s);
    this.out.table(subs, SUBSCRIPTION_COLUMNS, 'No subscriptions.');
    return subs;
  }
}
