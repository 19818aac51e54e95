import { z } from '@hono/zod-openapi';
import { PASSWORD_MAX_LENGTH } from './password.js';
import { SCOPES } from '../../core/scopes.js';

const ScopeSchema = z.enum(SCOPES).openapi('Scope');

export const RegisterBody = z
  .object({
    email: z.email({ error: 'must be a valid email address' }).max(320).openapi({ example: 'dj@example.com' }),
    password: z
      .string()
      .max(PASSWORD_MAX_LENGTH * 4)
      .openapi({ example: 'correct-horse-battery!' }),
    display_name: z.string().trim().min(1).max(200).optional().openapi({ example: 'DJ Example' }),
    role: z.enum(['dj', 'listener']).optional().openapi({ description: 'Defaults to dj.' }),
  })
  .strict()
  .openapi('RegisterRequest');

export const RegisterResponse = z
  .object({
    user_id: z.string().openapi({ example: 'usr_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    email: z.string(),
    display_name: z.string().nullable(),
    role: z.enum(['dj', 'listener', 'admin']),
    created_at: z.string(),
  })
  .openapi('RegisterResponse');

export const LoginBody = z
  .object({
    email: z.string().min(1).max(320).openapi({ example: 'dj@example.com' }),
    password: z
      .string()
      .min(1)
      .max(PASSWORD_MAX_LENGTH * 4),
  })
  .strict()
  .openapi('LoginRequest');

export const TokenPairSchema = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'Seconds until the access token expires.', example: 86400 }),
    refresh_expires_in: z.number().int(),
  })
  .openapi('TokenPair');

export const RefreshBody = z
  .object({ refresh_token: z.string().min(1).max(200) })
  .strict()
  .openapi('RefreshRequest');

export const UserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    display_name: z.string().nullable(),
    role: z.enum(['dj', 'listener', 'admin']),
    scopes: z.array(ScopeSchema),
    created_at: z.string(),
  })
  .openapi('User');

export const CreateTokenBody = z
  .object({
    name: z.string().trim().min(1).max(200).openapi({ example: 'github-actions' }),
    scopes: z.array(ScopeSchema).min(1),
    expires_in_days: z.number().int().min(1).max(3650).optional(),
  })
  .strict()
  .openapi('CreateTokenRequest');

export const ApiTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'The first characters of the token, to recognise it.' }),
    scopes: z.array(ScopeSchema),
    expires_at: z.string().nullable(),
    last_used_at: z
      .string()
      .nullable()
      .openapi({ description: 'When the token was last used, to the minute: a use is recorded at most once a minute.' }),
    created_at: z.string(),
  })
  .openapi('ApiToken');

export const CreatedApiTokenSchema = ApiTokenSchema.extend({
  token: z.string().openapi({ description: 'The secret. Shown once; store it now.' }),
}).openapi('CreatedApiToken');

export const TokenListSchema = z.object({ data: z.array(ApiTokenSchema) }).openapi('ApiTokenList');

export const TokenIdParam = z.object({
  id: z
    .string()
    .regex(/^tok_[0-9a-z]{26}$/)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'tok_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

// The types of this feature's requests and responses, inferred from the schemas above (never written twice).
export type RegisterRequest = z.infer<typeof RegisterBody>;
export type RegisterResult = z.infer<typeof RegisterResponse>;
export type LoginRequest = z.infer<typeof LoginBody>;
export type TokenPair = z.infer<typeof TokenPairSchema>;
export type UserView = z.infer<typeof UserSchema>;
export type CreateTokenRequest = z.infer<typeof CreateTokenBody>;
export type ApiTokenView = z.infer<typeof ApiTokenSchema>;
export type CreatedApiTokenView = z.infer<typeof CreatedApiTokenSchema>;
