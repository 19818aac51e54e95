import { EVENT_TYPES, type EventType, generateWebhookSecret, signWebhook, type WebhookEvent } from '@djcast/sdk';
import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { UsageError } from '../../services/errors.js';

/** Waits between reconnects: 1 s doubling to 30 s, reset by every event received. */
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30_000;
const FORWARD_TIMEOUT_MS = 10_000;

export default class WebhooksListen extends DjcastCommand<typeof WebhooksListen> {
  static override summary = 'Receive your events as they happen and forward each to a local URL, signed.';
  static override description =
    'Opens an event stream from the server (no endpoint needed, nothing public) and POSTs each event to --forward-to, ' +
    'signed the Standard Webhooks way with a temporary secret printed at start: verify with it exactly as in production. ' +
    'Reconnects by itself and resumes where it left off. Stop with Ctrl-C.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --forward-to http://localhost:3000/hook',
    '<%= config.bin %> <%= command.id %> --forward-to http://localhost:3000/hook --events upload.ready,playlist.ready --json',
  ];

  static override flags = {
    'forward-to': Flags.string({ summary: 'The local URL events are POSTed to.', required: true }),
    events: Flags.string({
      summary: 'Only these event types (comma-separated); all by default.',
      multiple: true,
      delimiter: ',',
      options: EVENT_TYPES as string[],
    }),
  };

  async run() {
    const target = this.flags['forward-to'];
    if (!/^https?:\/\/[^/]/i.test(target) || !URL.canParse(target)) {
      throw new UsageError(
        `--forward-to "${target}" is not an http:// or https:// URL.`,
        'For example --forward-to http://localhost:3000/hook',
      );
    }
    const types = this.flags.events as EventType[] | undefined;
    const secret = generateWebhookSecret();
    const client = this.client();
    const stop = new AbortController();
    const onInterrupt = () => stop.abort();
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onInterrupt);

    const emit = (record: Record<string, unknown>, human: string) => {
      // Streamed, one result per line: nothing is left for oclif to print at the end.
      if (this.out.json) process.stdout.write(`${JSON.stringify(record)}\n`);
      else this.out.result(human);
    };
    let opened = false;
    const onOpen = () => {
      if (opened) {
        this.out.info('Reconnected.');
        return;
      }
      opened = true;
      emit({ ready: true, secret, forward_to: target }, `Ready! Forwarding events to ${target}`);
      this.out.info(`Your webhook signing secret for this session is ${secret} (verify forwarded events with it).`);
    };

    let lastEventId: string | undefined;
    let delay = RECONNECT_MIN_MS;
    try {
      while (!stop.signal.aborted) {
        try {
          for await (const event of client.events.stream({ types, lastEventId, signal: stop.signal, onOpen })) {
            lastEventId = event.id;
            delay = RECONNECT_MIN_MS;
            const result = await forward(target, event, secret, stop.signal);
            emit(
              { event_id: event.id, type: event.type, status: result.status, error: result.error },
              `${new Date().toISOString()}  ${event.type}  ${event.id}  -> ${result.status ?? `failed: ${result.error}`}`,
            );
          }
          if (stop.signal.aborted) break;
          this.out.warn('The event stream ended; reconnecting.');
        } catch (error) {
          if (stop.signal.aborted) break;
          this.out.warn(`The event stream broke (${(error as Error).message}); reconnecting in ${Math.round(delay / 1000)} s.`);
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          stop.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        delay = Math.min(RECONNECT_MAX_MS, delay * 2);
      }
    } finally {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onInterrupt);
    }
    return undefined;
  }
}

async function forward(
  target: string,
  event: WebhookEvent,
  secret: string,
  stop: AbortSignal,
): Promise<{ status: number | null; error: string | null }> {
  const payload = JSON.stringify(event);
  try {
    const res = await fetch(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'djcast-cli-listen',
        ...signWebhook(event.id, payload, secret),
      },
      body: payload,
      signal: AbortSignal.any([stop, AbortSignal.timeout(FORWARD_TIMEOUT_MS)]),
    });
    await res.body?.cancel();
    return { status: res.status, error: null };
  } catch (error) {
    return { status: null, error: (error as Error).message };
  }
}
