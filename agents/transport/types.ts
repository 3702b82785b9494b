// The one interface every remote transport (SSH, WinRM) implements, and the errors they throw.
//
// Playbooks see only `RemoteSession`: they hand over an argv array, never a command string, and
// the transport is responsible for turning that argv into whatever the remote side parses
// (a POSIX shell line for Linux over SSH; a cmd.exe line for Windows over WinRM or over
// Windows OpenSSH, whose default shell is cmd.exe). See ./quote.ts for both.

export type TransportKind = "ssh" | "winrm";
export type RemoteOs = "windows" | "linux";

/** Default cap on stdout + stderr kept in memory for one command (bytes). */
export const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** Default total time one command may take, from start to exit code (ms). */
export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;

export interface ExecOptions {
  /** Total wall-clock budget for the command. On expiry the command is terminated and
   *  `RemoteTimeoutError` is thrown. Default `DEFAULT_EXEC_TIMEOUT_MS`. */
  timeoutMs?: number;
  /** Cap on stdout + stderr together (bytes, as received). Default `DEFAULT_MAX_OUTPUT_BYTES`. */
  maxOutputBytes?: number;
  /** What to do when the cap is hit. "error" (default) stops the command and throws
   *  `RemoteOutputLimitError`: a parser must never see half an output and take it for the
   *  whole. "truncate" stops the command and resolves with `truncated: true`. */
  onOutputLimit?: "error" | "truncate";
  /** Written to the command's stdin, then stdin is closed. Without it stdin is closed at once. */
  stdin?: string;
  /** Cancels the command (job cancelled by the operator): it is terminated and the promise
   *  rejects with the signal's reason wrapped in a `TransportError` (code "aborted"). */
  signal?: AbortSignal;
}

export interface ExecResult {
  /** The remote exit code. `null` when none was reported: the command was killed by a
   *  signal, or we stopped it after the output cap (`truncated: true`). */
  exitCode: number | null;
  /** Decoded as UTF-8 (WinRM shells are opened with code page 65001 for this reason). */
  stdout: string;
  stderr: string;
  /** True only with `onOutputLimit: "truncate"` when the cap was hit. */
  truncated: boolean;
  durationMs: number;
}

export interface RemoteSession {
  /** How the operator knows the host ("mx1.example (198.18.0.10)"), used in error messages. */
  readonly hostLabel: string;
  readonly kind: TransportKind;
  readonly remoteOs: RemoteOs;
  /** Runs one program with these arguments. argv[0] is the program. The transport quotes
   *  every element so that it reaches the program as one argument, as data: it never
   *  joins argv into a string unquoted. A value that cannot be quoted safely for the remote
   *  shell (see quote.ts) is refused with `TransportError` code "unquotable" before anything
   *  is sent. A non-zero exit code is a result, not an error. Commands on one session run
   *  one at a time (concurrent calls queue). */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Releases the remote shell / connection. Idempotent; never throws. */
  close(): Promise<void>;
}

/** Stable, machine-checkable reason for a transport failure. */
export type TransportErrorCode =
  | "connect" // TCP/TLS connection failed or dropped
  | "protocol" // the peer answered something we cannot parse or do not expect
  | "remote-fault" // the remote service reported a fault (e.g. a WS-Management SOAP fault)
  | "config" // our own options are unsafe or inconsistent (e.g. Basic auth over plain HTTP)
  | "certificate" // TLS certificate not trusted (and not pinned)
  | "unquotable" // an argv element cannot be passed safely through the remote shell
  | "aborted" // cancelled through ExecOptions.signal
  | "timeout"
  | "output-limit"
  | "host-key-mismatch"
  | "host-key-unconfirmed" // first contact: the key was read (nothing sent) and waits for an admin
  | "auth";

/** Base class of every transport error: `err instanceof TransportError` catches them all.
 *  Messages are written for an operator: they name the host and say what to do. */
export class TransportError extends Error {
  readonly code: TransportErrorCode;
  readonly hostLabel: string;

  constructor(hostLabel: string, message: string, options: { code?: TransportErrorCode; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TransportError";
    this.code = options.code ?? "connect";
    this.hostLabel = hostLabel;
  }
}

export class RemoteTimeoutError extends TransportError {
  readonly timeoutMs: number;
  constructor(hostLabel: string, timeoutMs: number, what: string) {
    super(
      hostLabel,
      `${what} on ${hostLabel} did not finish within ${Math.round(timeoutMs / 1000)} s; it was stopped. ` +
        `Check that the host is not overloaded, or raise the timeout for this job.`,
      { code: "timeout" },
    );
    this.name = "RemoteTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

export class RemoteOutputLimitError extends TransportError {
  readonly limitBytes: number;
  constructor(hostLabel: string, limitBytes: number, what: string) {
    super(
      hostLabel,
      `${what} on ${hostLabel} produced more than ${limitBytes} bytes of output; it was stopped and its ` +
        `output discarded, because a partial output cannot be trusted.`,
      { code: "output-limit" },
    );
    this.name = "RemoteOutputLimitError";
    this.limitBytes = limitBytes;
  }
}

/** The host presented an identity other than the pinned one: an SSH host key, or (WinRM over
 *  HTTPS) a TLS certificate whose thumbprint differs from the pinned thumbprint. */
export class HostKeyMismatchError extends TransportError {
  readonly identity: "ssh-host-key" | "tls-certificate";
  readonly expected: string;
  readonly actual: string;
  constructor(
    hostLabel: string,
    identity: "ssh-host-key" | "tls-certificate",
    expected: string,
    actual: string,
    pinnedAt?: Date,
  ) {
    const what = identity === "ssh-host-key" ? "SSH host key" : "WinRM certificate";
    const since = pinnedAt ? ` since it was pinned on ${pinnedAt.toISOString().slice(0, 10)}` : "";
    super(
      hostLabel,
      `${what} for ${hostLabel} changed${since}: expected ${expected}, got ${actual}. ` +
        `Nothing was sent. If the change is expected, confirm the new ${identity === "ssh-host-key" ? "key" : "thumbprint"} on the host's page (Pinned host key).`,
      { code: "host-key-mismatch" },
    );
    this.name = "HostKeyMismatchError";
    this.identity = identity;
    this.expected = expected;
    this.actual = actual;
  }
}

/** First contact with a host whose key nobody confirmed (and that is not set to trust on first
 *  use): the key was read without authenticating, nothing else was sent. */
export class HostKeyUnconfirmedError extends TransportError {
  readonly identity: "ssh-host-key" | "tls-certificate";
  readonly presented: string;
  constructor(hostLabel: string, identity: "ssh-host-key" | "tls-certificate", presented: string) {
    const what = identity === "ssh-host-key" ? "SSH host key" : "WinRM certificate";
    super(
      hostLabel,
      `The ${what} of ${hostLabel} (${presented}) has not been confirmed, so no credential was sent. ` +
        `An admin must confirm the key on the host page (or set the host to trust on first use), then run the audit again.`,
      { code: "host-key-unconfirmed" },
    );
    this.name = "HostKeyUnconfirmedError";
    this.identity = identity;
    this.presented = presented;
  }
}

export class AuthError extends TransportError {
  constructor(hostLabel: string, detail: string) {
    super(hostLabel, `${hostLabel} refused the credentials: ${detail}. Check the credential assigned to this host.`, {
      code: "auth",
    });
    this.name = "AuthError";
  }
}
