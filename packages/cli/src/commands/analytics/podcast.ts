import type { PodcastAnalytics } from '@djcast/sdk';
import { AnalyticsCommand } from '../../analytics-command.js';
import { podcastView } from '../../services/analytics.js';

export default class AnalyticsPodcast extends AnalyticsCommand {
  static override summary = 'Downloads of a podcast per day, in total and per episode, counted the IAB way.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> pod_01jd0v9m3x7k2p8q4r5s6t7u8v --from 2025-06-01 --to 2025-06-07',
    '<%= config.bin %> <%= command.id %> pod_01jd0v9m3x7k2p8q4r5s6t7u8v --from 2025-01-01 --to 2025-12-31 --csv podcast.csv',
    '<%= config.bin %> <%= command.id %> pod_01jd0v9m3x7k2p8q4r5s6t7u8v --json',
  ];
  protected readonly kind = 'podcast';
  protected fetch(id: string, range: { from?: string; to?: string }) {
    return this.client().analytics.podcast(id, range);
  }
  protected fetchCsv(id: string, range: { from?: string; to?: string }) {
    return this.client().analytics.podcastCsv(id, range);
  }
  protected view(answer: unknown) {
    return podcastView(answer as PodcastAnalytics);
  }
}
