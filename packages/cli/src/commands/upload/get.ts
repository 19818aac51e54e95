import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { UPLOAD_FIELDS } from '../../ui/media-views.js';

export default class UploadGet extends DjcastCommand<typeof UploadGet> {
  static override summary = 'Show one upload: its status and progress, or the HLS URL once ready.';
  static override args = { id: Args.string({ description: 'Upload id (upl_…).', required: true }) };

  async run() {
    const upload = await this.client().uploads.get(this.args.id);
    this.out.record(upload, UPLOAD_FIELDS);
    return upload;
  }
}
