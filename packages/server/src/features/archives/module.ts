import type { FeatureModule } from '../../modules.js';
import { archiveJobs } from './jobs.js';
import { registerArchiveRoutes } from './routes.js';
import { ArchivesService, type ArchivesDeps } from './service.js';

export type ArchivesModuleDeps = ArchivesDeps;

/** Live sets become podcast episodes: podcast:liveItem while live, then a draft episode with chapters. */
export function archivesModule(deps: ArchivesModuleDeps): FeatureModule & { service: ArchivesService } {
  const service = new ArchivesService(deps);
  return {
    name: 'archives',
    service,
    jobs: archiveJobs(service),
    routes: (app) => registerArchiveRoutes(app, service),
  };
}
