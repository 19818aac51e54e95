import type { PlaylistAnalytics } from '@djcast/sdk';
import { AnalyticsCommand } from '../../analytics-command.js';
import { playlistView } from '../../services/analytics.js';

export default class AnalyticsPlaylist extends AnalyticsCommand {
  static override summary = 'Plays of a playlist per day (sessions that received at least 30 s of audio).';
  static override examples = [
    '<%= config.bin %> <%= command.id %> pls_01jd0v9m3x7k2p8q4r5s6t7u8v --from 2025-06-01 --to 2025-06-07',
    '<%= config.bin %> <%= command.id %> pls_01jd0v9m3x7k2p8q4r5s6t7u8v --from 2025-01-01 --to 2025-12-31 --csv playlist.csv',
    '<%= config.bin %> <%= command.id %> pls_01jd0v9m3x7k2p8q4r5s6t7u8v --json',
  ];
  protected readonly kind = 'playlist';
  protected fetch(id: string, range: { from?: string; to?: string }) {
    return this.client().analytics.playlist(id, range);
  }
  protected fetchCsv(id: string, range: { from?: string; to?: string }) {
    return this.client().analytics.playlistCsv(id, range);
  }
  protected view(answer: unknown) {
    return playlistView(answer as PlaylistAnalytics);
  }
}
