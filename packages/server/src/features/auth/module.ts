import type { Kysely } from 'kysely';
import type { Database } from '../../db/tables.js';
import type { FeatureModule } from '../../modules.js';
import { registerAuthRoutes } from './routes.js';
import { AuthService, type AuthSettings } from './service.js';

export interface AuthModuleDeps {
  db: Kysely<Database>;
  settings: AuthSettings;
  clock: () => Date;
}

/** Accounts, logins, refresh and API tokens. Its service is the authenticator every secured route uses. */
export function authModule(deps: AuthModuleDeps): FeatureModule & { service: AuthService } {
  const service = new AuthService(deps.db, deps.settings, deps.clock);
  return {
    name: 'auth',
    service,
    routes: (app) => registerAuthRoutes(app, service),
  };
}
