import type { Logger } from '../../logger.js';
import type { CdnPurger } from './types.js';

/** No CDN: each purge is a log line, so what would have been purged is visible. */
export class LogCdnPurger implements CdnPurger {
  readonly kind = 'none';
  constructor(private readonly logger: Logger) {}

  async purge(urls: readonly string[]): Promise<void> {
    this.logger.info({ event: 'cdn.purge', urls }, 'no CDN configured; nothing to purge');
  }
}
