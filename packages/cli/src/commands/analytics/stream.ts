import type { StreamAnalytics } from '@djcast/sdk';
import { AnalyticsCommand } from '../../analytics-command.js';
import { streamView } from '../../services/analytics.js';

export default class AnalyticsStream extends AnalyticsCommand {
  static override summary = 'Daily listeners of a live stream: unique and peak concurrent, listening hours, and who listens now.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> str_01jd0v9m3x7k2p8q4r5s6t7u8v --from 2025-06-01 --to 2025-06-07',
    '<%= config.bin %> <%= command.id %> str_01jd0v9m3x7k2p8q4r5s6t7u8v --from 2025-01-01 --to 2025-12-31 --csv stream.csv',
    '<%= config.bin %> <%= command.id %> str_01jd0v9m3x7k2p8q4r5s6t7u8v --json',
  ];
  protected readonly kind = 'stream';
  protected fetch(id: string, range: { from?: string; to?: string }) {
    return this.client().analytics.stream(id, range);
  }
  protected fetchCsv(id: string, range: { from?: string; to?: string }) {
    return this.client().analytics.streamCsv(id, range);
  }
  protected view(answer: unknown) {
    return streamView(answer as StreamAnalytics);
  }
}
