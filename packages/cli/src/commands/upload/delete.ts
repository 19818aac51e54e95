import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { confirmFlags } from '../../flags.js';
import { confirmDestructive } from '../../services/prompt.js';

export default class UploadDelete extends DjcastCommand<typeof UploadDelete> {
  static override summary = 'Delete an upload and its stored media (not while a playlist uses it).';
  static override args = { id: Args.string({ description: 'Upload id (upl_…).', required: true }) };

  static override description = 'Asks on a terminal; give --yes in scripts (without a terminal it refuses otherwise).';
  static override flags = confirmFlags;

  async run() {
    await confirmDestructive(`upload ${this.args.id}`, { yes: this.flags.yes, command: `djcast upload delete ${this.args.id}` });
    await this.client().uploads.delete(this.args.id);
    this.out.success(`Deleted ${this.args.id}.`);
    return { id: this.args.id, deleted: true };
  }
}
