import type { Readable } from 'node:stream';

export type ScanResult = { clean: true } | { clean: false; signature: string };

/**
 * Virus scanning of uploads: off by default (and /healthz says so), ClamAV's
 * clamd in production. `scan` reads the stream to its end; when it fails it
 * destroys the stream and rejects with ScannerError (or the stream's own error).
 */
export interface Scanner {
  readonly kind: 'off' | 'clamav';
  scan(stream: Readable): Promise<ScanResult>;
  /** True when the scanner answers; never throws. */
  ping(): Promise<boolean>;
}

export type ScannerErrorCode =
  /** Cannot connect, or the connection dropped before an answer. */
  | 'unavailable'
  | 'timeout'
  /** The file is larger than clamd's StreamMaxLength. */
  | 'size_limit'
  /** clamd answered with an error. */
  | 'scanner_error'
  /** clamd answered something this client does not understand. */
  | 'protocol';

export class ScannerError extends Error {
  override readonly name = 'ScannerError';
  constructor(
    readonly code: ScannerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
