/**
 * Waiting for a condition instead of sleeping a fixed time: a test goes on as soon as what it waits
 * for is true, and says what never happened when it times out.
 */

/**
 * Polls `check` every `everyMs` until it returns a truthy value (which it returns), or fails naming
 * `what` after `timeoutMs`. A check that throws counts as not yet.
 */
export async function waitUntil<T>(
  what: string,
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, everyMs = 50 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
