import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';

export default class AdsRemove extends DjcastCommand<typeof AdsRemove> {
  static override summary = 'Remove an ad marker; listeners stop hearing the ad at once.';
  static override examples = ['<%= config.bin %> <%= command.id %> adm_01jd0v9m3x7k2p8q4r5s6t7u8v'];
  static override args = { id: Args.string({ description: 'Ad marker id (adm_…).', required: true }) };

  async run() {
    await this.client().ads.remove(this.args.id);
    this.out.result(`Removed ${this.args.id}.`);
    return { id: this.args.id, deleted: true };
  }
}
