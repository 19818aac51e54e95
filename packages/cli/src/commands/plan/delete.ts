import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';

export default class PlanDelete extends DjcastCommand<typeof PlanDelete> {
  static override summary = 'Archive a plan: no new subscriptions; existing ones run on.';
  static override args = { id: Args.string({ description: 'Plan id (pln_…).', required: true }) };

  async run() {
    await this.client().plans.delete(this.args.id);
    this.out.info(`Archived plan ${this.args.id}.`);
    return { id: this.args.id, archived: true };
  }
}
