import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../core/pagination.js';
import { principalOf } from '../../http/auth.js';
import type { Context } from 'hono';
import type { App, AppEnv } from '../../http/env.js';
import { extraErrors, json, securedRoute } from '../../http/openapi.js';
import { CreateDomainBody, DomainIdParam, DomainListSchema, DomainSchema } from './schemas.js';
import type { DomainsService } from './service.js';

const tags = ['domains'];

const createDomain = securedRoute('domains:write', {
  method: 'post',
  path: '/v1/domains',
  operationId: 'createDomain',
  tags,
  summary: "Add your own hostname for a podcast's feed; the answer lists the DNS records to create",
  description:
    'Create the TXT record (proves you own the name) and the CNAME (points it at the platform). A poller checks DNS; ' +
    '`POST /v1/domains/{id}/verify` checks now. Once verified, the CNAME is created for you when the platform manages ' +
    'your zone, then a certificate is issued and `https://{hostname}/rss.xml` serves the feed. IP addresses, wildcards ' +
    "and the platform's own domain are refused (400); a hostname another account verified is 409.",
  request: { body: { content: json(CreateDomainBody), required: true } },
  responses: { 201: { description: 'Added; create the records it lists', content: json(DomainSchema) }, ...extraErrors(409) },
});

const listDomains = securedRoute('domains:write', {
  method: 'get',
  path: '/v1/domains',
  operationId: 'listDomains',
  tags,
  summary: 'Your custom domains, newest first',
  request: { query: PaginationQuery },
  responses: { 200: { description: 'Domains', content: json(DomainListSchema) } },
});

const getDomain = securedRoute('domains:write', {
  method: 'get',
  path: '/v1/domains/{id}',
  operationId: 'getDomain',
  tags,
  summary: 'One custom domain: its state, the records expected and the records found',
  request: { params: DomainIdParam },
  responses: { 200: { description: 'The domain', content: json(DomainSchema) } },
});

const deleteDomain = securedRoute('domains:write', {
  method: 'delete',
  path: '/v1/domains/{id}',
  operationId: 'deleteDomain',
  tags,
  summary: 'Remove the domain: HTTPS for it stops, and a CNAME the platform created is deleted',
  request: { params: DomainIdParam },
  responses: { 204: { description: 'Removed' } },
});

const verifyDomain = securedRoute('domains:write', {
  method: 'post',
  path: '/v1/domains/{id}/verify',
  operationId: 'verifyDomain',
  tags,
  summary: 'Check DNS now, and move the domain on as far as its records allow',
  request: { params: DomainIdParam },
  responses: { 200: { description: 'The domain after the check', content: json(DomainSchema) } },
});

export function registerDomainRoutes(app: App, domains: DomainsService): void {
  app.openapi(createDomain, async (c) => c.json(await domains.create(principalOf(c), c.req.valid('json')), 201));
  app.openapi(listDomains, async (c) => c.json(await domains.list(principalOf(c), c.req.valid('query')), 200));
  app.openapi(getDomain, async (c) => c.json(await domains.get(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(deleteDomain, async (c) => {
    await domains.remove(principalOf(c), c.req.valid('param').id);
    return c.body(null, 204);
  });
  app.openapi(verifyDomain, async (c) => c.json(await domains.verify(principalOf(c), c.req.valid('param').id), 200));
}

const TOKEN = z.string().regex(/^[A-Za-z0-9_-]{1,200}$/);

/**
 * What a custom hostname is served: the ACME HTTP-01 answers (the CA asks on
 * port 80 of the hostname), `/rss.xml`, the podcast's feed, and `/`, its
 * listener page, by Host.
 * Plain routes, outside the API document: they exist on the DJs' hostnames.
 */
export function registerCustomHostRoutes(app: App, domains: DomainsService): void {
  app.get('/.well-known/acme-challenge/:token', async (c) => {
    const token = TOKEN.safeParse(c.req.param('token'));
    const answer = token.success ? await domains.challengeAnswer(token.data) : null;
    if (answer === null) return c.text('not found', 404);
    return c.text(answer, 200, { 'cache-control': 'no-store' });
  });
  // The DJ's hostname is the podcast's own address: its feed at /rss.xml and its listener page at /.
  const servePodcastPath = (path: (podcastId: string) => string) => async (c: Context<AppEnv>) => {
    const host = (c.req.header('host') ?? '').replace(/:\d+$/, '');
    const podcastId = host ? await domains.podcastForHost(host) : null;
    if (!podcastId) return c.notFound();
    const url = new URL(c.req.url);
    url.pathname = path(podcastId);
    return app.fetch(new Request(url, c.req.raw), c.env);
  };
  app.get(
    '/rss.xml',
    servePodcastPath((id) => `/podcasts/${id}/rss.xml`),
  );
  app.get(
    '/',
    servePodcastPath((id) => `/c/${id}`),
  );
}
