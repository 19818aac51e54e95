// A real webhook receiver on loopback: it verifies every request with the
// `standardwebhooks` package (as a developer's endpoint would) and answers
// as told: 200, 500, or nothing at all (a hanging endpoint).

import http from 'node:http';
import type net from 'node:net';
import { Webhook } from 'standardwebhooks';

export type ReceiverMode = 'ok' | 'fail' | 'hang';

export interface Received {
  id: string;
  timestamp: string;
  signatures: string[];
  body: string;
  /** Parsed body when the signature verified; null when it did not. */
  event: { id: string; type: string; created_at: string; data: { object: Record<string, unknown> } } | null;
  /** What verification said when it failed. */
  rejection: string | null;
  /** What the receiver answered (null: it never did). */
  answered: number | null;
  path: string;
}

export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** Requests whose signature verified and that were answered 2xx, in arrival order. */
  accepted(): Received[];
  setMode(mode: ReceiverMode): void;
  /** The secrets a request may be signed with (any one verifying is enough). */
  setSecrets(secrets: string[]): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secrets: string[] = []): Promise<WebhookReceiver> {
  let mode: ReceiverMode = 'ok';
  let keys = secrets;
  const received: Received[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let event: Received['event'] = null;
      let rejection: string | null = 'no secret configured';
      for (const secret of keys) {
        try {
          event = new Webhook(secret).verify(body, headers) as Received['event'];
          rejection = null;
          break;
        } catch (error) {
          rejection = (error as Error).message;
        }
      }
      const entry: Received = {
        id: headers['webhook-id'] ?? '',
        timestamp: headers['webhook-timestamp'] ?? '',
        signatures: (headers['webhook-signature'] ?? '').split(' ').filter(Boolean),
        body,
        event,
        rejection,
        answered: null,
        path: (req.url ?? '/').split('?')[0]!,
      };
      received.push(entry);
      if (!event) {
        entry.answered = 400;
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`invalid signature: ${rejection}`);
        return;
      }
      if (mode === 'hang') {
        hanging.add(res);
        return;
      }
      entry.answered = mode === 'ok' ? 200 : 500;
      res
        .writeHead(entry.answered, { 'content-type': 'text/plain' })
        .end(mode === 'ok' ? 'thanks' : 'receiver is down for maintenance');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    accepted: () => received.filter((r) => r.event && r.answered !== null && r.answered < 300),
    setMode: (m) => {
      mode = m;
    },
    setSecrets: (s) => {
      keys = s;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
