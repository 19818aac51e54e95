import type { components } from '../generated/openapi.js';
import { type ApiContext, unwrap, unwrapEmpty } from './context.js';

type Schemas = components['schemas'];
export type ApiToken = Schemas['ApiToken'];
export type CreatedApiToken = Schemas['CreatedApiToken'];
export type CreateTokenRequest = Schemas['CreateTokenRequest'];
export type Scope = Schemas['Scope'];

export function tokensApi({ raw }: ApiContext) {
  return {
    /** Creates an API token for a CI pipeline. The secret (`token`) is in this response only. */
    create: (body: CreateTokenRequest): Promise<CreatedApiToken> => unwrap(raw.POST('/v1/tokens', { body })),
    /** Your API tokens, never their secrets. */
    list: async (): Promise<ApiToken[]> => (await unwrap(raw.GET('/v1/tokens'))).data,
    revoke: (id: string): Promise<void> => unwrapEmpty(raw.DELETE('/v1/tokens/{id}', { params: { path: { id } } })),
  };
}
