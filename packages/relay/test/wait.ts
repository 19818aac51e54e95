// One polling wait for the relay's integration tests: a condition is
// checked until it holds or a generous deadline passes (never a fixed sleep).

/** Polls `check` until it returns a truthy value, which it resolves to; throws naming `what` at the deadline. */
export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
