import { DjcastCommand } from '../base-command.js';
import { runDoctor, renderDoctor } from '../services/doctor.js';

export default class Doctor extends DjcastCommand<typeof Doctor> {
  static override summary = 'Check the server, versions, live backends and your login.';
  static override description = 'Exits 1 when the server cannot be reached.';

  async run() {
    const fast = { retries: 0, timeoutMs: 5000 };
    const source = this.authSource();
    const authed = source.kind === 'none' ? undefined : this.client('optional', fast);
    const report = await this.out.spin('Checking the server…', () =>
      runDoctor({
        apiUrl: this.apiUrl,
        cliVersion: this.config.version,
        health: () => this.client('none', fast).health(),
        me: authed ? () => authed.me() : undefined,
        via: source.kind === 'token' ? source.via : source.kind === 'login' ? 'the stored login' : undefined,
        notLoggedInReason: source.kind === 'none' ? source.reason : undefined,
      }),
    );
    for (const line of renderDoctor(report)) this.out.result(line);
    if (!report.reachable) {
      if (this.out.json) this.out.printJson(report);
      this.exit(1);
    }
    return report;
  }
}
