import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';

export default class UploadDelete extends DjcastCommand<typeof UploadDelete> {
  static override summary = 'Delete an upload and its stored media (not while a playlist uses it).';
  static override args = { id: Args.string({ description: 'Upload id (upl_…).', required: true }) };

  async run() {
    await this.client().uploads.delete(this.args.id);
    this.out.success(`Deleted ${this.args.id}.`);
    return { id: this.args.id, deleted: true };
  }
}
