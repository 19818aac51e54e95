import { defineJob, type JobDefinition } from '../../jobs/definition.js';
import { FOLD_ANALYTICS } from './job-types.js';
import type { AnalyticsService } from './service.js';

export function foldAnalyticsJob(service: AnalyticsService): JobDefinition<Record<string, never>> {
  return defineJob(FOLD_ANALYTICS, {
    async run(_payload, ctx) {
      const { days, deleted } = await service.fold();
      ctx.logger.info({ event: 'analytics.folded', days, raw_rows_deleted: deleted }, 'analytics folded into daily aggregates');
      await service.scheduleFold();
    },
  });
}
