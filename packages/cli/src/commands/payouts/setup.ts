import { DjcastCommand } from '../../base-command.js';

export default class PayoutsSetup extends DjcastCommand<typeof PayoutsSetup> {
  static override summary = 'Connect a Stripe account to get paid, and print its onboarding link.';
  static override description =
    'The first run creates your Stripe Connect (Express) account; later runs reuse it. Each run prints a fresh, ' +
    'single-use onboarding link: open it in a browser, then check `djcast payouts status`. Not needed in local test mode.';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  async run() {
    const setup = await this.client().payouts.setup();
    this.out.result(setup.onboarding_url);
    this.out.info(`Open the link in a browser to finish onboarding your account ${setup.account_id ?? ''}.`);
    if (setup.requirements_due.length > 0) this.out.info(`Stripe still needs: ${setup.requirements_due.join(', ')}.`);
    return setup;
  }
}
