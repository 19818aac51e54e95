import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import { DomainError } from '../../core/errors.js';
import type { App } from '../../http/env.js';
import type { OpsModuleDeps } from './module.js';
import { publicRoute } from '../../http/openapi.js';
import { VERSION } from '../../version.js';

const HealthSchema = z
  .object({
    status: z.literal('ok'),
    version: z.string(),
    backends: z.record(z.string(), z.string()).openapi({
      description: 'Which implementation is live for each outside concern.',
      example: { database: 'sqlite', storage: 'local', relay_launcher: 'process', virus_scan: 'off' },
    }),
  })
  .openapi('Health');

const ReadySchema = z
  .object({ status: z.enum(['ready', 'not_ready']), checks: z.record(z.string(), z.boolean()) })
  .openapi('Readiness');

const healthz = publicRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  tags: ['operations'],
  summary: 'Liveness, version and which backend is live for each concern',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: HealthSchema } } } },
});

const readyz = publicRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  tags: ['operations'],
  summary: 'Readiness: the database answers',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: ReadySchema } } },
    503: { description: 'Not ready', content: { 'application/json': { schema: ReadySchema } } },
  },
});

const metrics = publicRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  tags: ['operations'],
  summary: 'Prometheus metrics',
  description:
    'Prometheus text exposition. When the server is configured with DJCAST_METRICS_TOKEN, a scrape must send `Authorization: Bearer <token>` (stream ids are labels); otherwise it is open.',
  responses: { 200: { description: 'Prometheus text exposition', content: { 'text/plain': { schema: z.string() } } } },
});

export function registerOpsRoutes(app: App, deps: OpsModuleDeps): void {
  app.openapi(healthz, (c) => c.json({ status: 'ok' as const, version: VERSION, backends: deps.backends() }, 200));

  app.openapi(readyz, async (c) => {
    const database = await deps.ping();
    return c.json({ status: database ? ('ready' as const) : ('not_ready' as const), checks: { database } }, database ? 200 : 503);
  });

  const token = deps.metricsToken ? digest(deps.metricsToken) : null;
  app.openapi(metrics, async (c) => {
    if (token) {
      const presented = /^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
      if (!presented || !timingSafeEqual(digest(presented), token)) {
        throw new DomainError(
          'unauthenticated',
          'This /metrics needs the scrape token: Authorization: Bearer <DJCAST_METRICS_TOKEN>.',
          {
            headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' },
          },
        );
      }
    }
    const body = await deps.registry.metrics();
    return c.text(body, 200, { 'Content-Type': deps.registry.contentType });
  });
}

const digest = (value: string) => createHash('sha256').update(value).digest();
