import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { scanAborted, type ScanOptions, type ScanResult, type Scanner } from './types.js';

/** No scanning (the embedded default): every file is clean. */
export class OffScanner implements Scanner {
  readonly kind = 'off' as const;

  async scan(stream: Readable, options: ScanOptions = {}): Promise<ScanResult> {
    const { signal } = options;
    if (signal?.aborted) {
      stream.destroy();
      throw scanAborted(signal);
    }
    // Still read the stream to its end, so a tee feeding it never stalls.
    stream.resume();
    try {
      await finished(stream, signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) {
        stream.destroy();
        throw scanAborted(signal);
      }
      throw error;
    }
    return { clean: true };
  }

  async ping(): Promise<boolean> {
    return true;
  }
}
