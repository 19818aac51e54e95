export type RelayState = 'starting' | 'live' | 'reconnecting' | 'offline';

/** Body of POST /v1/relays/{relay_id}/heartbeat. */
export interface HeartbeatBody {
  state: RelayState;
  /** Listeners the source server reports for the mount (the relay's own connections included). */
  listener_count: number;
  /** How many of those listeners are this worker's own connections (FFmpeg's pull, the ICY title reader). */
  relay_connections: number;
  /** Percent of one core used by the worker and its FFmpeg since the previous sample. */
  cpu_usage: number;
  /** Seconds since the last segment was published (since start, before the first). */
  segment_lag_seconds: number;
  current_track: string | null;
  bitrate_kbps: number | null;
  /** EXT-X-MEDIA-SEQUENCE of the published live playlist (0 before the first). */
  media_sequence: number;
  source_kind: string;
  content_type: string | null;
  /** The live ad breaks this worker has taken on (started, played or failed), newest last: the API stops offering them. */
  ad_breaks_taken: string[];
}

export interface HeartbeatResult {
  ok: boolean;
  /** The API's receipt (when it answered 2xx with JSON): what it tells the worker back, e.g. `archive_prefix`. */
  receipt?: { archive_prefix?: string | null; ad_break?: AdBreakOrder | null } & Record<string, unknown>;
  status?: number;
  error?: string;
  body: HeartbeatBody;
  reason: HeartbeatReason;
}

/** A live ad break the API asks the worker to play now (heartbeat receipt `ad_break`). */
export interface AdBreakOrder {
  /** brk_…: the EXT-X-DATERANGE ID. */
  id: string;
  /** The ad marker (adm_…) whose audio plays. */
  ad_id: string | null;
  /** The normalized ad MP3 at 44.1 kHz: a signed URL, absolute or relative to the API. */
  url: string;
  /** The same ad at other sample rates (48 and 32 kHz): the worker plays the one of its source's rate. */
  variants?: { sample_rate: number; url: string }[];
  duration_seconds: number;
}

/**
 * The ad URL for a source at `sampleRate` (null: not known yet): the variant at that rate, else the
 * 44.1 kHz `url` (the input switch then fails the break cleanly if the rates differ).
 */
export function adUrlFor(order: Pick<AdBreakOrder, 'url' | 'variants'>, sampleRate: number | null): string {
  const variants = Array.isArray(order.variants) ? order.variants : [];
  const match = variants.find((v) => v && v.sample_rate === sampleRate && typeof v.url === 'string');
  return match ? match.url : order.url;
}

export type HeartbeatReason = 'tick' | 'state' | 'final';

export interface HeartbeatSenderOptions {
  apiUrl: string;
  relayId: string;
  token: string;
  fetch: typeof globalThis.fetch;
  /** Per request. */
  timeoutMs: number;
  onResult(result: HeartbeatResult): void;
}

export function heartbeatUrl(apiUrl: string, relayId: string): string {
  return `${apiUrl.replace(/\/+$/, '')}/v1/relays/${encodeURIComponent(relayId)}/heartbeat`;
}

/**
 * Sends heartbeats one at a time, in order, so the API sees state changes
 * in the order they happened. A periodic tick is skipped while another
 * heartbeat is queued or in flight (it would say the same thing); state
 * changes always go out. Failures are reported, never thrown: the next
 * tick is the retry.
 */
export class HeartbeatSender {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly options: HeartbeatSenderOptions) {}

  enqueue(body: HeartbeatBody, reason: HeartbeatReason): void {
    if (reason === 'tick' && this.pending > 0) return;
    this.pending += 1;
    this.chain = this.chain.then(async () => {
      try {
        this.options.onResult(await this.send(body, reason));
      } finally {
        this.pending -= 1;
      }
    });
  }

  /** Waits for queued heartbeats, at most `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.chain, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  private async send(body: HeartbeatBody, reason: HeartbeatReason): Promise<HeartbeatResult> {
    try {
      const res = await this.options.fetch(heartbeatUrl(this.options.apiUrl, this.options.relayId), {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${this.options.token}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const text = await res.text().catch(() => ''); // also releases the connection
      return res.ok
        ? { ok: true, status: res.status, body, reason, ...receiptOf(text) }
        : { ok: false, status: res.status, error: `HTTP ${res.status}`, body, reason };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const detail = e.cause?.code ?? e.cause?.message;
      return { ok: false, error: detail ? `${e.message} (${detail})` : e.message, body, reason };
    }
  }
}

function receiptOf(text: string): { receipt?: HeartbeatResult['receipt'] } {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? { receipt: value as HeartbeatResult['receipt'] } : {};
  } catch {
    return {};
  }
}
