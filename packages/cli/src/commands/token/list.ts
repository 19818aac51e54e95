import { DjcastCommand } from '../../base-command.js';
import { TOKEN_COLUMNS } from '../../ui/views.js';

export default class TokenList extends DjcastCommand<typeof TokenList> {
  static override summary = 'List your API tokens (never their secrets).';

  async run() {
    const tokens = await this.client().tokens.list();
    this.out.table(tokens, TOKEN_COLUMNS, 'No API tokens. Create one with `djcast token create`.');
    return tokens;
  }
}
