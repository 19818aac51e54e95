import { writeFileSync } from 'node:fs';
import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from './base-command.js';
import { UsageError } from './services/errors.js';
import { renderAnalytics, type DailySeries } from './ui/analytics-views.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The shared shape of `djcast analytics stream|playlist|podcast|ads <id>`: a
 * range, then a table and a chart, `--csv FILE` for the export, `--json` for
 * the object.
 */
export abstract class AnalyticsCommand extends DjcastCommand<typeof AnalyticsCommand> {
  static override args = { id: Args.string({ description: 'The id of the stream, playlist or podcast.', required: true }) };
  static override flags = {
    from: Flags.string({ summary: 'First day (UTC), YYYY-MM-DD. Default: 29 days before --to.' }),
    to: Flags.string({ summary: 'Last day (UTC), YYYY-MM-DD. Default: today.' }),
    csv: Flags.string({ summary: 'Also write the CSV export (date,metric,value) to this file.' }),
  };

  protected abstract readonly kind: 'stream' | 'playlist' | 'podcast' | 'ads';
  protected abstract fetch(id: string, range: { from?: string; to?: string }): Promise<unknown>;
  protected abstract fetchCsv(id: string, range: { from?: string; to?: string }): Promise<string>;
  protected abstract view(answer: unknown): DailySeries;

  async run(): Promise<unknown> {
    const { from, to, csv } = this.flags;
    for (const [name, value] of [
      ['--from', from],
      ['--to', to],
    ] as const) {
      if (value !== undefined && !DAY.test(value))
        throw new UsageError(`${name} must be a date written YYYY-MM-DD.`, 'For example --from 2025-06-01.');
    }
    const range = { ...(from ? { from } : {}), ...(to ? { to } : {}) };
    const answer = (await this.fetch(this.args.id, range)) as { from: string; to: string };
    if (csv) {
      writeFileSync(csv, await this.fetchCsv(this.args.id, range));
      this.out.info(`Wrote the CSV export to ${csv}.`);
    }
    this.out.result(renderAnalytics(`${this.kind} ${this.args.id} · ${answer.from} to ${answer.to}`, this.view(answer)));
    return answer;
  }
}
