import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A new signing secret: `whsec_` and 32 random bytes in base64 (what Standard Webhooks libraries expect). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The Standard Webhooks headers for one attempt. Every secret given signs
 * (the current one and, during a rotation overlap, the previous one); the
 * signatures are space-separated, and a receiver holding either secret
 * verifies. `timestamp` is the wall clock at sending: receivers compare it
 * with theirs to refuse replays.
 */
export function signedHeaders(
  messageId: string,
  timestamp: Date,
  payload: string,
  secrets: readonly string[],
): { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string } {
  const signatures = secrets.map((s) => new Webhook(s).sign(messageId, timestamp, payload));
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
