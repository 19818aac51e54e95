import type { AdAnalytics, AdAnalyticsScope } from '@djcast/sdk';
import { Args } from '@oclif/core';
import { AnalyticsCommand } from '../../analytics-command.js';
import { adsView } from '../../services/analytics.js';
import { UsageError } from '../../services/errors.js';

export default class AnalyticsAds extends AnalyticsCommand {
  static override summary = 'Ad impressions, completions and completion rate per day of a playlist’s or a stream’s ad markers.';
  static override description =
    'An impression is a listener session that started an ad; a completion, one that played it to its end. ' +
    'Give a playlist id (pls_…) or a stream id (str_…); the summary lists each marker.';
  static override args = {
    id: Args.string({ description: 'The playlist (pls_…) or live stream (str_…) whose ads to count.', required: true }),
  };
  static override examples = [
    '<%= config.bin %> <%= command.id %> pls_01jd0v9m3x7k2p8q4r5s6t7u8v --from 2025-06-01 --to 2025-06-07',
    '<%= config.bin %> <%= command.id %> str_01jd0v9m3x7k2p8q4r5s6t7u8v --from 2025-01-01 --to 2025-12-31 --csv ads.csv',
    '<%= config.bin %> <%= command.id %> pls_01jd0v9m3x7k2p8q4r5s6t7u8v --json',
  ];
  protected readonly kind = 'ads';
  protected fetch(id: string, range: { from?: string; to?: string }) {
    return this.client().analytics.ads(scopeOf(id), range);
  }
  protected fetchCsv(id: string, range: { from?: string; to?: string }) {
    return this.client().analytics.adsCsv(scopeOf(id), range);
  }
  protected view(answer: unknown) {
    return adsView(answer as AdAnalytics);
  }
}

function scopeOf(id: string): AdAnalyticsScope {
  if (id.startsWith('pls_')) return { playlist: id };
  if (id.startsWith('str_')) return { stream: id };
  throw new UsageError(`${id} is neither a playlist (pls_…) nor a stream (str_…) id.`, 'For example djcast analytics ads pls_…');
}
