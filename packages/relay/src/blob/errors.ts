/** A key or prefix that no store accepts (traversal, empty segment, control character...). */
export class BlobKeyError extends Error {
  override readonly name = 'BlobKeyError';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`Invalid blob key ${JSON.stringify(key)}: ${reason}`);
  }
}

/** A byte range that starts past the end of the object (HTTP 416). */
export class BlobRangeError extends Error {
  override readonly name = 'BlobRangeError';
  constructor(
    readonly key: string,
    readonly size: number,
  ) {
    super(`Range not satisfiable for ${JSON.stringify(key)} (size ${size})`);
  }
}

/** The error a put rejects with when its AbortSignal fires. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('The blob write was aborted', { name: 'AbortError', cause: reason } as never);
}
