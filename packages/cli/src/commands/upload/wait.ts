import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { followUpload, requireReady } from '../../follow.js';
import { UPLOAD_FIELDS } from '../../ui/media-views.js';

export default class UploadWait extends DjcastCommand<typeof UploadWait> {
  static override summary = 'Wait until an upload is transcoded (ready), or failed or rejected.';
  static override description =
    'Shows the transcoding progress on a terminal. Exit 0 when ready, 1 when failed or rejected (with the reason), ' +
    '4 when --timeout runs out; run it again to keep waiting. Uploads nothing.';
  static override examples = ['<%= config.bin %> <%= command.id %> upl_01jd0v9m3x7k2p8q4r5s6t7u8v'];
  static override args = { id: Args.string({ description: 'Upload id (upl_…).', required: true }) };
  static override flags = {
    timeout: Flags.integer({ summary: 'Seconds to wait before giving up (exit 4).', default: 1800, min: 1 }),
  };

  async run() {
    const followed = await followUpload(
      { client: this.client(), out: this.out, timeoutSeconds: this.flags.timeout },
      this.args.id,
    );
    const upload = requireReady(followed, this.out, (code) => this.exit(code));
    this.out.record(upload, UPLOAD_FIELDS);
    return upload;
  }
}
