// The one error type whose message is written for the person who caused it: a bad input, a
// missing setting, a refused action, saying what to do. Everything else is a fault: logged in
// full and shown to the user only as an id. The boundary normalises once: API routes answer
// application/problem+json (lib/http/route.ts), server actions an ActionResult (lib/auth/guard.ts).
// Each domain keeps its own subclass (ScanError, CredentialError, ...) for instanceof and for
// the name in logs; none re-implements the marker.

export class AppError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AppError";
  }
}

/** True for an AppError: its message can be shown as it is. */
export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
