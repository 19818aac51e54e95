import type { components, operations } from '../generated/openapi.js';
import { paginate } from '../pagination.js';
import { type ApiContext, unwrap, unwrapEmpty } from './context.js';

type Schemas = components['schemas'];
export type Domain = Schemas['Domain'];
export type DomainList = Schemas['DomainList'];
export type CreateDomainRequest = Schemas['CreateDomainRequest'];
export type ListDomainsQuery = NonNullable<operations['listDomains']['parameters']['query']>;

export function domainsApi({ raw }: ApiContext) {
  const list = (query: ListDomainsQuery = {}): Promise<DomainList> => unwrap(raw.GET('/v1/domains', { params: { query } }));
  return {
    /** Adds your hostname for a podcast; the answer lists the TXT and CNAME records to create. */
    create: (body: CreateDomainRequest): Promise<Domain> => unwrap(raw.POST('/v1/domains', { body })),
    get: (id: string): Promise<Domain> => unwrap(raw.GET('/v1/domains/{id}', { params: { path: { id } } })),
    list,
    iterate: (query: Omit<ListDomainsQuery, 'starting_after'> = {}): AsyncGenerator<Domain> =>
      paginate((cursor) => list({ ...query, starting_after: cursor })),
    /** Checks DNS now and moves the domain on as far as its records allow. */
    verify: (id: string): Promise<Domain> => unwrap(raw.POST('/v1/domains/{id}/verify', { params: { path: { id } } })),
    delete: (id: string): Promise<void> => unwrapEmpty(raw.DELETE('/v1/domains/{id}', { params: { path: { id } } })),
  };
}
