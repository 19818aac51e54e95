import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { followUpload, requireReady } from '../../follow.js';
import { checkUploadFile, uploadFile, type Upload } from '../../services/media.js';
import { UPLOAD_FIELDS } from '../../ui/media-views.js';

export default class UploadCommand extends DjcastCommand<typeof UploadCommand> {
  static override summary = 'Upload an MP3; it is virus-scanned and transcoded to HLS on the server.';
  static override description =
    'Shows a byte progress bar while the file is sent (on a terminal, on stderr). With --wait, follows the transcode with a second bar ' +
    'until the upload is ready (exit 0), failed or rejected (exit 1), or --timeout passes (exit 4). Under --json only the final upload object is printed.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> ./set.mp3 --wait',
    '<%= config.bin %> <%= command.id %> ./set.mp3 --title "Friday warm-up" --json',
    '<%= config.bin %> <%= command.id %> list',
  ];
  static override args = { file: Args.string({ description: 'The MP3 file to upload.', required: true }) };
  static override flags = {
    title: Flags.string({ summary: 'Title; defaults to the file name.' }),
    wait: Flags.boolean({ summary: 'Wait until the upload is ready (or failed, or rejected).', default: false }),
    timeout: Flags.integer({ summary: 'With --wait: give up after this many seconds (exit 4).', default: 1800, min: 1 }),
  };

  async run(): Promise<Upload> {
    const file = await checkUploadFile(this.args.file);
    const client = this.client();
    const sending = this.out.progress(file.size, 'Uploading', { unit: 'bytes' });
    let upload: Upload;
    try {
      upload = await uploadFile(client, file, { title: this.flags.title, onBytes: (sent) => sending.update(sent) });
    } finally {
      sending.stop();
    }
    this.out.info(`Uploaded ${file.name} as ${upload.id}; the server scans and transcodes it now.`);

    if (this.flags.wait) {
      upload = requireReady(
        await followUpload({ client, out: this.out, timeoutSeconds: this.flags.timeout }, upload.id),
        this.out,
        (code) => this.exit(code),
      );
    } else {
      this.out.info(`Follow it with \`djcast upload wait ${upload.id}\`.`);
    }
    this.out.record(upload, UPLOAD_FIELDS);
    return upload;
  }
}
