import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_accounts_and_streams.js';
import * as m0002 from './0002_jobs_and_outbox.js';
import * as m0003 from './0003_relays.js';
import * as m0004 from './0004_uploads_and_playlists.js';
import * as m0005 from './0005_external_track_origin.js';
import * as m0006 from './0006_idempotency_keys.js';
import * as m0008 from './0008_job_owner_and_resource.js';
import * as m0009 from './0009_idempotency_per_credential.js';
import * as m0010 from './0010_webhooks.js';
import * as m0011 from './0011_podcasts.js';
import * as m0012 from './0012_domains.js';
import * as m0013 from './0013_billing.js';
import * as m0014 from './0014_analytics.js';
import * as m0015 from './0015_ads.js';
import * as m0016 from './0016_stream_archives.js';
import * as m0017 from './0017_artworks.js';
import * as m0018 from './0018_payout_accounts.js';
import * as m0019 from './0019_ad_breaks.js';
import * as m0020 from './0020_ad_live_sessions.js';
import * as m0021 from './0021_ad_impressions_started.js';
import * as m0022 from './0022_ad_breaks_taken.js';

/** One migration set for both dialects, in order. Add new files here. */
export const migrations: Record<string, Migration> = {
  '0001_accounts_and_streams': m0001,
  '0002_jobs_and_outbox': m0002,
  '0003_relays': m0003,
  '0004_uploads_and_playlists': m0004,
  '0005_external_track_origin': m0005,
  '0006_idempotency_keys': m0006,
  '0008_job_owner_and_resource': m0008,
  '0009_idempotency_per_credential': m0009,
  '0010_webhooks': m0010,
  '0011_podcasts': m0011,
  '0012_domains': m0012,
  '0013_billing': m0013,
  '0014_analytics': m0014,
  '0015_ads': m0015,
  '0016_stream_archives': m0016,
  '0017_artworks': m0017,
  '0018_payout_accounts': m0018,
  '0019_ad_breaks': m0019,
  '0020_ad_live_sessions': m0020,
  '0021_ad_impressions_started': m0021,
  '0022_ad_breaks_taken': m0022,
};
