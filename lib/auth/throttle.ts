// Sign-in throttling: after MAX_FAILURES failed attempts for one account from one address within
// WINDOW_MS, further attempts are refused (HTTP 429) until the window slides past them.
export const MAX_FAILURES = 5;
export const WINDOW_MS = 15 * 60 * 1000;

export interface AttemptRecord {
  succeeded: boolean;
  at: Date;
}

/** Pure: given recent attempts (any order), is the account+address locked at `now`, and until when? */
export function throttleState(attempts: AttemptRecord[], now: Date): { locked: boolean; retryAfterSeconds: number } {
  const windowStart = now.getTime() - WINDOW_MS;
  const recent = attempts.filter((a) => a.at.getTime() > windowStart).sort((a, b) => a.at.getTime() - b.at.getTime());
  // A successful sign-in resets the count: only failures after the last success matter.
  const lastSuccess = recent.map((a) => a.succeeded).lastIndexOf(true);
  const failures = recent.slice(lastSuccess + 1).filter((a) => !a.succeeded);
  if (failures.length < MAX_FAILURES) return { locked: false, retryAfterSeconds: 0 };
  const oldestCounted = failures[failures.length - MAX_FAILURES];
  const unlockAt = oldestCounted.at.getTime() + WINDOW_MS;
  return { locked: true, retryAfterSeconds: Math.max(1, Math.ceil((unlockAt - now.getTime()) / 1000)) };
}
