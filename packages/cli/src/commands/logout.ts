import { DjcastCommand } from '../base-command.js';

export default class Logout extends DjcastCommand<typeof Logout> {
  static override summary = 'Revoke the stored login and delete it.';
  static override description =
    'Revokes the refresh token on the server, then deletes credentials.json. API tokens are not affected.';

  async run() {
    const login = this.storedLogin();
    if (!login) {
      this.out.result('Not logged in.');
      return { logged_out: false };
    }
    let revoked = true;
    try {
      await this.client('none', { baseUrl: login.api_url }).auth.logout(login.refresh_token);
    } catch (error) {
      revoked = false;
      this.out.warn(
        `Could not revoke the session on ${login.api_url}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    this.credentials.remove();
    this.out.result(`Logged out of ${login.api_url}.`);
    return { logged_out: true, revoked, api_url: login.api_url, email: login.email };
  }
}
