// Relay specs for the launcher tests (process and Kubernetes), with secret
// values distinctive enough to search for in Pod JSON, argv and logs.
import type { RelaySpec } from '../src/adapters/relay-launcher/types.js';

export const SECRET_VALUES = {
  relayToken: 'rt_3b9f0c1e5a7d4e2f8a6b0c9d1e3f5a7b',
  sourcePassword: 'hackme-source-pass',
  sourceUsername: 'source-user-dj',
  s3Key: 'AKIAEXAMPLEKEY123',
  s3Secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

export function relaySpec(overrides: Partial<RelaySpec> = {}): RelaySpec {
  return {
    relayId: 'rly_01JD3XK4Q8ZP2VN6M7RTY5W9AB',
    streamId: 'str_01JD3XK0000000000000000000',
    sourceUrl: 'http://icecast.example:8000/live',
    sourceKind: 'icecast',
    statsUrl: 'http://icecast.example:8000/status-json.xsl',
    sourceUsername: SECRET_VALUES.sourceUsername,
    sourcePassword: SECRET_VALUES.sourcePassword,
    apiUrl: 'http://djcast-server.djcast.svc:8787',
    relayToken: SECRET_VALUES.relayToken,
    audio: 'aac',
    paywall: { enabled: true, visibility: 'private' },
    storageEnv: {
      DJCAST_STORAGE: 's3',
      DJCAST_S3_BUCKET: 'djcast-media',
      DJCAST_S3_REGION: 'eu-west-3',
      DJCAST_S3_ACCESS_KEY_ID: SECRET_VALUES.s3Key,
      DJCAST_S3_SECRET_ACCESS_KEY: SECRET_VALUES.s3Secret,
    },
    timing: { heartbeatMs: 5000, segmentSeconds: 4 },
    ...overrides,
  };
}
