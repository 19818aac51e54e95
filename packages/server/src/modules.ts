// The one convention a feature plugs in by: its folder exports a module
// factory (features/<name>/module.ts) that takes a deps object of the
// adapters and services it needs and returns what it adds to the server.
// container.ts builds the adapters and lists the modules; app.ts mounts
// their routes; the worker runs their jobs; /metrics carries their metrics.
// Nothing here starts a timer: main.ts does.

import type { Registry } from 'prom-client';
import type { App } from './http/env.js';
import type { JobDefinition } from './jobs/definition.js';

export interface FeatureModule {
  readonly name: string;
  /** Declares the feature's routes (createRoute + app.openapi in its routes files). */
  routes?(app: App): void;
  /** The durable jobs the feature owns; registered with the job worker. */
  readonly jobs?: readonly JobDefinition<any>[];
  /** Registers the feature's Prometheus metrics. */
  metrics?(registry: Registry): void;
}

/** What the container does with a module list: jobs to the worker, metrics to the registry. */
export function installModules(
  modules: readonly FeatureModule[],
  into: { worker: { register(job: JobDefinition<any>): void }; registry: Registry },
): void {
  for (const module of modules) {
    for (const job of module.jobs ?? []) into.worker.register(job);
    module.metrics?.(into.registry);
  }
}

/** Mounts every module's routes, in list order. */
export function mountModuleRoutes(app: App, modules: readonly FeatureModule[]): void {
  for (const module of modules) module.routes?.(app);
}
