// The SDK's webhook side against the real server in process: endpoint and
// event methods, the live event stream, and verifyWebhook on what the server
// signs (forged, altered and stale requests refused).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDjcastClient,
  type EventOf,
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
} from '../src/index.js';
import { PASSWORD, startTestServer, uniqueEmail, waitFor, type TestServer } from './support/server.js';

describe('SDK webhooks', () => {
  let server: TestServer;
  let client: ReturnType<typeof createDjcastClient>;

  beforeAll(async () => {
    server = await startTestServer();
    const email = uniqueEmail('sdk-hooks');
    await createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch }).auth.register({ email, password: PASSWORD });
    client = createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch, credentials: { email, password: PASSWORD } });
  });
  afterAll(() => server.close());

  it('verifyWebhook accepts what was signed with the secret, and refuses forged, altered and stale requests', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const event = {
      id: 'evt_01jd0v9m3x7k2p8q4r5s6t7u8v',
      type: 'stream.live',
      created_at: new Date().toISOString(),
      data: { object: { id: 'str_01jd0v9m3x7k2p8q4r5s6t7u8v' } },
    };
    const body = JSON.stringify(event);
    const headers = signWebhook(event.id, body, secret);
    expect(verifyWebhook(body, headers, secret)).toEqual(event);
    // A fetch Headers object and Node-style mixed-case keys work alike.
    expect(verifyWebhook(new TextEncoder().encode(body), new Headers(headers), secret).id).toBe(event.id);
    expect(
      verifyWebhook(
        body,
        {
          'Webhook-Id': headers['webhook-id'],
          'Webhook-Timestamp': headers['webhook-timestamp'],
          'Webhook-Signature': headers['webhook-signature'],
        },
        secret,
      ).type,
    ).toBe('stream.live');

    expect(() => verifyWebhook(body, headers, generateWebhookSecret())).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(body.replace('stream.live', 'stream.offline'), headers, secret)).toThrow(WebhookVerificationError);
    const stale = signWebhook(event.id, body, secret, new Date(Date.now() - 10 * 60_000));
    expect(() => verifyWebhook(body, stale, secret)).toThrow(/too old/);
  });

  it('manages endpoints and streams events as they happen', async () => {
    const created = await client.webhooks.create({ url: 'https://example.com/hooks', events: ['stream.starting'] });
    expect(created.secret).toMatch(/^whsec_/);
    expect((await client.webhooks.list()).data.map((e) => e.id)).toContain(created.id);
    const updated = await client.webhooks.update(created.id, { events: ['*'], description: 'everything' });
    expect(updated).toMatchObject({ events: ['*'], description: 'everything', enabled: true });
    const rotated = await client.webhooks.rotateSecret(created.id, 60);
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.secret_rotation_ends_at).toBeTruthy();

    const stop = new AbortController();
    let opened = false;
    const received: EventOf<'stream.starting'>[] = [];
    const reading = (async () => {
      for await (const event of client.events.stream({
        types: ['stream.starting'],
        signal: stop.signal,
        onOpen: () => (opened = true),
      })) {
        if (event.type === 'stream.starting') received.push(event);
      }
    })().catch((error: unknown) => {
      if (!stop.signal.aborted) throw error;
    });
    await waitFor('the stream to open', () => opened);
    const stream = await client.streams.create({ name: 'sdk hooks', source_url: server.sourceUrl });
    await waitFor('stream.starting on the event stream', () => received.length > 0);
    expect(received[0]!.data.object).toMatchObject({ id: stream.id, status: 'starting' });
    stop.abort();
    await reading;

    const listed = await client.events.list({ type: 'stream.starting' });
    expect(listed.data.map((e) => e.id)).toEqual([received[0]!.id]);
    expect(await client.events.get(received[0]!.id)).toEqual(received[0]);
    const resent = await client.events.resend(received[0]!.id);
    expect(resent.deliveries.map((d) => d.endpoint_id)).toEqual([created.id]);
    await client.webhooks.delete(created.id);
    expect((await client.webhooks.list()).data).toEqual([]);
  });
});
