import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { UPLOAD_COLUMNS } from '../../ui/media-views.js';

export default class UploadList extends DjcastCommand<typeof UploadList> {
  static override summary = 'List your uploads, newest first.';

  static override flags = {
    limit: Flags.integer({ summary: 'How many to show.', min: 1, max: 100, default: 20 }),
    status: Flags.string({ summary: 'Only uploads in this state.', options: ['processing', 'ready', 'failed', 'rejected'] }),
  };

  async run() {
    const page = await this.client().uploads.list({
      limit: this.flags.limit,
      ...(this.flags.status ? { status: this.flags.status as 'processing' | 'ready' | 'failed' | 'rejected' } : {}),
    });
    this.out.table(page.data, UPLOAD_COLUMNS, 'No uploads yet. Upload one with `djcast upload ./set.mp3`.');
    if (page.has_more) this.out.info('More uploads exist; raise --limit (up to 100) to see them.');
    return page.data;
  }
}
