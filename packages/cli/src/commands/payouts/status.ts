import { DjcastCommand } from '../../base-command.js';
import { PAYOUT_FIELDS } from '../../ui/billing-views.js';

export default class PayoutsStatus extends DjcastCommand<typeof PayoutsStatus> {
  static override summary = 'Show whether your payout account can take charges and pay out.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run() {
    const account = await this.client().payouts.status();
    if (account.provider === 'local') {
      this.out.record(account, PAYOUT_FIELDS.slice(0, 1));
      this.out.info('Local test mode: no money moves and no payout account is needed; paid plans work without one.');
      return account;
    }
    this.out.record(account, PAYOUT_FIELDS);
    if (!account.account_id) this.out.info('No payout account yet: run `djcast payouts setup`.');
    else if (!account.charges_enabled) this.out.info('Onboarding is not finished: run `djcast payouts setup` for a new link.');
    return account;
  }
}
