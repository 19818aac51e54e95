import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { PLAN_COLUMNS } from '../../ui/billing-views.js';

export default class PlanList extends DjcastCommand<typeof PlanList> {
  static override summary = 'List your plans, newest first.';
  static override flags = {
    feature: Flags.string({ summary: 'Only plans with this feature, e.g. ad-free.' }),
  };

  async run() {
    const plans = [];
    for await (const p of this.client().plans.iterate(this.flags.feature ? { feature: this.flags.feature } : {})) plans.push(p);
    this.out.table(plans, PLAN_COLUMNS, 'No plans. Create one with `djcast plan create`.');
    return plans;
  }
}
