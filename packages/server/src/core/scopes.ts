/** Every scope the API knows, and what each role is granted. */
export const SCOPES = [
  'streams:read',
  'streams:write',
  'uploads:write',
  'playlists:read',
  'playlists:write',
  'podcasts:read',
  'podcasts:write',
  'domains:write',
  'monetization:write',
  'analytics:read',
  'subscriptions:read',
  'subscriptions:write',
  'tokens:write',
  'webhooks:read',
  'webhooks:write',
] as const;

export type Scope = (typeof SCOPES)[number];
export type Role = 'dj' | 'listener' | 'admin';

export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  // A DJ holds every scope over their own resources; admins hold them over everyone's.
  dj: SCOPES,
  listener: ['subscriptions:read', 'subscriptions:write', 'tokens:write'],
  admin: SCOPES,
};

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}
