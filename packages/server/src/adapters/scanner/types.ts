import type { Readable } from 'node:stream';

export type ScanResult = { clean: true } | { clean: false; signature: string };

export interface ScanOptions {
  /**
   * Aborts the scan (shutdown): the connection to the scanner is closed, the
   * stream destroyed, and the scan rejects promptly with ScannerError code
   * 'aborted' (its cause is the signal's reason), however much is left.
   */
  signal?: AbortSignal;
}

/**
 * Virus scanning of uploads: off by default (and /healthz says so), ClamAV's
 * clamd in production. `scan` reads the stream to its end; when it fails it
 * destroys the stream and rejects with ScannerError (or the stream's own error).
 */
export interface Scanner {
  readonly kind: 'off' | 'clamav';
  scan(stream: Readable, options?: ScanOptions): Promise<ScanResult>;
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
  | 'protocol'
  /** The caller's AbortSignal fired (e.g. shutdown); says nothing about the file. */
  | 'aborted';

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

/** The rejection for a scan whose signal fired: code 'aborted', the signal's reason as cause. */
export function scanAborted(signal: AbortSignal): ScannerError {
  return new ScannerError('aborted', 'the virus scan was aborted', { cause: signal.reason });
}
