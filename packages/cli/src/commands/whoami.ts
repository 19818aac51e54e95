import { DjcastCommand } from '../base-command.js';
import { USER_FIELDS } from '../ui/views.js';

export default class Whoami extends DjcastCommand<typeof Whoami> {
  static override summary = 'Show the account the CLI acts as.';

  async run() {
    const me = await this.client().me();
    this.out.record(me, USER_FIELDS);
    return me;
  }
}
