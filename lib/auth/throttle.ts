// Sign-in limits (docs/security.md "Sign-in and sessions"). Two fixed-window counters per attempt:
// - per account and address: ADDRESS_LIMIT failures per WINDOW_MS, the usual lock-out of one guesser;
// - per account from any address: ACCOUNT_LIMIT, so guessing spread over many addresses (or
//   forged X-Forwarded-For headers) is limited too. It is set higher than ADDRESS_LIMIT because
//   anyone can spend it on a victim's account: the victim is then kept out for one window, not
//   for good, and a guesser gets at most ACCOUNT_LIMIT tries per window whatever its addresses.
// Attempts are counted before the password is checked (sign-in-limits.ts), so an attempt that is
// still running counts, and parallel attempts cannot all slip under the limit.
export const ADDRESS_LIMIT = 5;
export const ACCOUNT_LIMIT = 20;
export const WINDOW_MS = 15 * 60 * 1000;

export interface CounterState {
  kind: "account" | "address";
  /** Attempts in the current window, this one included. */
  attempts: number;
  /** Seconds until the window ends. */
  secondsLeft: number;
}

// Refused attempts are audited when a lock starts and then once per this many, with the count:
// the audit chain is written under one lock, and a flood must not turn into a queue of writers.
export const AUDIT_REFUSED_EVERY = 25;

export interface ThrottleDecision {
  locked: boolean;
  retryAfterSeconds: number;
  /** This refusal is the first of its window, or every AUDIT_REFUSED_EVERY-th after it. */
  audit: boolean;
  /** Refused attempts in the window so far, this one included (the fullest counter). */
  refusedInWindow: number;
}

const limitOf = (c: CounterState) => (c.kind === "account" ? ACCOUNT_LIMIT : ADDRESS_LIMIT);

/** Pure: is this attempt over a limit, how long until the fullest counter's window ends, and is it audited? */
export function throttleDecision(counters: CounterState[]): ThrottleDecision {
  const over = counters.filter((c) => c.attempts > limitOf(c));
  if (over.length === 0) return { locked: false, retryAfterSeconds: 0, audit: false, refusedInWindow: 0 };
  const refused = over.map((c) => c.attempts - limitOf(c));
  return {
    locked: true,
    retryAfterSeconds: Math.max(1, Math.ceil(Math.max(...over.map((c) => c.secondsLeft)))),
    audit: refused.some((r) => r === 1 || r % AUDIT_REFUSED_EVERY === 0),
    refusedInWindow: Math.max(...refused),
  };
}
