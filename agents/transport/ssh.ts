// SSH transport: one RemoteSession over OpenSSH (Linux, or Windows OpenSSH whose default shell is
// cmd.exe), built on node-ssh / ssh2.
//
// What this file is responsible for, and why:
// - The host key is checked inside the key exchange (ssh2's hostVerifier), before any credential
//   is offered. A pinned host whose key changed is refused with HostKeyMismatchError: nothing is
//   authenticated, nothing is sent. `fetchSshHostKey` reads a host's key without authenticating
//   (first contact, agents/transport/open-session.ts decides what happens next). Callers that
//   change hosts pass `requirePinned: true`, which refuses an unpinned host before connecting.
// - Commands are argv arrays, quoted for the remote shell by ./quote.ts (POSIX sh for Linux,
//   cmd.exe for Windows OpenSSH): never a string built from host data.
// - Every command has a wall-clock budget and an output cap. On either, the remote process is sent
//   SIGKILL (the SSH "signal" channel request, RFC 4254 6.9, honoured by OpenSSH since 7.9 for
//   command sessions) and the channel is closed, so the process also loses its stdout/stderr.
//   Output is collected as bytes and decoded once at the end (a multibyte character split across
//   two SSH packets is not mangled), and never beyond the cap (memory stays bounded whatever the
//   host prints).
// - Credentials arrive decrypted from the caller, go straight to ssh2, and are never logged or
//   put into an error message.
//
// node-ssh is used for connecting and disposing; commands run on its underlying ssh2 Client
// directly because node-ssh's execCommand keeps unbounded output and decodes each packet alone.

import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import { NodeSSH, type Config as NodeSshConfig } from "node-ssh";
import { Client as SshClient, type Client, type ClientChannel } from "ssh2";
import { quoteForRemote, UnquotableArgumentError } from "./quote";
import { checkTransportTarget, type TargetCheckOptions } from "./target";
import {
  AuthError,
  DEFAULT_EXEC_TIMEOUT_MS,
  DEFAULT_MAX_OUTPUT_BYTES,
  HostKeyMismatchError,
  RemoteOutputLimitError,
  RemoteTimeoutError,
  TransportError,
  type ExecOptions,
  type ExecResult,
  type RemoteOs,
  type RemoteSession,
} from "./types";

/** Decrypted credential material, as the caller got it from lib/crypto. Never logged. */
export type SshCredential =
  | { kind: "ssh-key"; username: string; privateKey: string | Buffer; passphrase?: string }
  | { kind: "ssh-password"; username: string; password: string };

export interface SshOptions extends TargetCheckOptions {
  /** Address or DNS name. */
  host: string;
  /** Default 22. */
  port?: number;
  /** For messages ("mx1 (198.18.0.11)"); default host, with ":port" when not 22. */
  hostLabel?: string;
  credential: SshCredential;
  /** "linux" (default): argv quoted for POSIX sh. "windows": Windows OpenSSH with its default
   *  shell cmd.exe, argv quoted for cmd.exe (see quote.ts for what cannot be passed). */
  remoteOs?: RemoteOs;
  /** The confirmed host key fingerprint, as OpenSSH prints it: "SHA256:" + unpadded base64 of
   *  the SHA-256 of the key blob (`ssh-keygen -lf`, `ssh-keyscan | ssh-keygen -lf -`). */
  pinnedFingerprint?: string | null;
  /** When the pin was confirmed; named in the mismatch message. */
  pinnedAt?: Date | null;
  /** Only offer this host key algorithm (e.g. "ssh-ed25519"): the one whose key was pinned. A
   *  host has several host keys (ed25519, ecdsa, rsa) and presents the one the key exchange picks;
   *  pinning one of them and negotiating another would read as a changed key. */
  hostKeyAlgorithm?: "ssh-ed25519" | "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "ecdsa-sha2-nistp521" | "rsa-sha2-512" | "rsa-sha2-256" | "ssh-rsa";
  /** Refuse a host without a pinned fingerprint before connecting. Set it for every session that
   *  changes a host (remediation, rollback, reboot). */
  requirePinned?: boolean;
  /** TCP connect + key exchange + authentication. Default 15 s. */
  connectTimeoutMs?: number;
  /** SSH keepalive interval; after 3 unanswered ones the connection counts as lost. Default 10 s. */
  keepaliveIntervalMs?: number;
  // allowList, resolver, denyList (TargetCheckOptions): the host is resolved once, every address
  // is checked, and ssh2 is given the checked address (it would resolve the name again).
}

export interface SshSession extends RemoteSession {
  readonly kind: "ssh";
  /** What the host presented in this connection, "SHA256:...". */
  readonly hostKeyFingerprint: string;
  /** The key's algorithm as found in the key blob ("ssh-ed25519"). */
  readonly hostKeyType: string;
  /** true: matched the pin; false: no pin was given, the caller must record the fingerprint as
   *  pending confirmation. */
  readonly hostKeyPinned: boolean;
}

/** The host has no confirmed key yet and the operation needs one. */
export class HostKeyNotPinnedError extends TransportError {
  constructor(hostLabel: string) {
    super(
      hostLabel,
      `The SSH host key for ${hostLabel} has not been confirmed yet, and changes are only made over a pinned connection. ` +
        `Nothing was sent. Run a scan to record its key, then have an admin confirm it on the host's page (Pinned host key).`,
      { code: "config" },
    );
    this.name = "HostKeyNotPinnedError";
  }
}

/** A HostKeyMismatchError that also says whether any authentication request had been sent (it
 *  never should: the key exchange is refused first). */
export class SshHostKeyMismatchError extends HostKeyMismatchError {
  readonly authenticationAttempted: boolean;
  constructor(hostLabel: string, expected: string, actual: string, pinnedAt: Date | undefined, authenticationAttempted: boolean) {
    super(hostLabel, "ssh-host-key", expected, actual, pinnedAt);
    this.authenticationAttempted = authenticationAttempted;
  }
}

export const DEFAULT_SSH_CONNECT_TIMEOUT_MS = 15_000;
const DEFAULT_KEEPALIVE_MS = 10_000;

const FINGERPRINT = /^SHA256:([A-Za-z0-9+/]{43})=?$/;

/** "SHA256:..." of a host key, the way OpenSSH prints it. Takes the raw key blob (what the server
 *  sends in the key exchange) or a public key line "ssh-ed25519 AAAA... [comment]". Pure. */
export function sshFingerprint(key: Buffer | string): string {
  let blob: Buffer;
  if (typeof key === "string") {
    const b64 = key.trim().split(/\s+/)[1];
    if (!b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error("not an OpenSSH public key line");
    blob = Buffer.from(b64, "base64");
  } else {
    blob = key;
  }
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The canonical form of a fingerprint given by an operator or a manifest; null when it is not an
 *  OpenSSH SHA256 fingerprint. */
export function normalizeFingerprint(text: string): string | null {
  const m = FINGERPRINT.exec(text.trim());
  return m ? `SHA256:${m[1]}` : null;
}

/** The algorithm name that starts every SSH public key blob (RFC 4253 6.6: string "ssh-ed25519"...). */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return "unknown";
  const len = blob.readUInt32BE(0);
  if (len <= 0 || len > 64 || 4 + len > blob.length) return "unknown";
  const name = blob.subarray(4, 4 + len).toString("latin1");
  return /^[a-z0-9@.-]+$/.test(name) ? name : "unknown";
}

function defaultLabel(host: string, port: number): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  return port === 22 ? host : `${h}:${port}`;
}

/** How an argv reads in an error message: the program only, never its arguments (they may be
 *  long, and a message must not carry file contents). */
function describeCommand(argv: readonly string[]): string {
  return `"${(argv[0] ?? "").slice(0, 60)}"`;
}

/**
 * Opens an SSH session: checks the target against the allow list and the pinning policy,
 * connects, verifies the host key during the key exchange, authenticates. Every failure is a
 * TransportError whose message tells the operator what to do.
 */
export async function openSshSession(opts: SshOptions): Promise<SshSession> {
  const port = opts.port ?? 22;
  const hostLabel = opts.hostLabel ?? defaultLabel(opts.host, port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TransportError(hostLabel, `Port ${port} for ${hostLabel} is not a TCP port.`, { code: "config" });
  }
  let pin: string | null = null;
  if (opts.pinnedFingerprint) {
    pin = normalizeFingerprint(opts.pinnedFingerprint);
    if (!pin) {
      throw new TransportError(
        hostLabel,
        `The pinned host key for ${hostLabel} is not an OpenSSH SHA256 fingerprint ("SHA256:" and 43 base64 characters). Correct it on the host's page (Pinned host key).`,
        { code: "config" },
      );
    }
  }
  if (opts.requirePinned && !pin) throw new HostKeyNotPinnedError(hostLabel);
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_SSH_CONNECT_TIMEOUT_MS;
  const target = await checkTransportTarget(opts.host, hostLabel, opts, connectTimeoutMs);

  let presented: { fingerprint: string; type: string } | null = null;
  let mismatch = false;
  let authStarted = false;
  const cred = opts.credential;
  const config: NodeSshConfig = {
    // The checked address, never the name: no second DNS answer between check and connect.
    host: target.address,
    port,
    username: cred.username,
    readyTimeout: connectTimeoutMs,
    keepaliveInterval: opts.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_MS,
    keepaliveCountMax: 3,
    // Called during the key exchange, before the userauth service is even requested.
    hostVerifier: (key: Buffer): boolean => {
      presented = { fingerprint: sshFingerprint(key), type: keyTypeOfBlob(key) };
      if (pin && presented.fingerprint !== pin) {
        mismatch = true;
        return false;
      }
      return true;
    },
    // Lets the session prove (and the tests check) that no credential was offered to a host
    // whose key was refused.
    debug: (line: string) => {
      if (/USERAUTH_REQUEST|SERVICE_REQUEST/i.test(line)) authStarted = true;
    },
    ...(opts.hostKeyAlgorithm ? { algorithms: { serverHostKey: [opts.hostKeyAlgorithm] } } : {}),
    ...(cred.kind === "ssh-key"
      ? { privateKey: Buffer.isBuffer(cred.privateKey) ? cred.privateKey.toString("utf8") : cred.privateKey, ...(cred.passphrase ? { passphrase: cred.passphrase } : {}) }
      : { password: cred.password, tryKeyboard: true }),
  };

  const ssh = new NodeSSH();
  try {
    await ssh.connect(config);
  } catch (e) {
    ssh.dispose();
    const p = presented as { fingerprint: string; type: string } | null;
    if (mismatch && pin && p) {
      throw new SshHostKeyMismatchError(hostLabel, pin, p.fingerprint, opts.pinnedAt ?? undefined, authStarted);
    }
    throw mapConnectError(hostLabel, e, connectTimeoutMs);
  }
  const conn = ssh.connection;
  const p = presented as { fingerprint: string; type: string } | null;
  if (!conn || !p) {
    ssh.dispose();
    throw new TransportError(hostLabel, `The SSH connection to ${hostLabel} closed during setup.`, { code: "connect" });
  }
  return new OpenSshSession(ssh, conn, hostLabel, opts.remoteOs ?? "linux", p.fingerprint, p.type, pin !== null);
}

/**
 * The host key `address:port` presents in the key exchange, read without authenticating: the
 * verifier refuses every key, so ssh2 ends the connection before it sends SERVICE_REQUEST
 * (RFC 4253 10) and no USERAUTH_REQUEST can follow. `address` must be an already checked
 * address (open-session.ts checks it against the allowed targets).
 */
export function fetchSshHostKey(address: string, port: number, hostLabel: string, timeoutMs = DEFAULT_SSH_CONNECT_TIMEOUT_MS): Promise<{ fingerprint: string; type: string }> {
  return new Promise((resolve, reject) => {
    const client = new SshClient();
    let presented: { fingerprint: string; type: string } | null = null;
    const done = (err: TransportError | null) => {
      client.removeAllListeners();
      client.on("error", () => {});
      client.end();
      if (presented) resolve(presented);
      else reject(err ?? new TransportError(hostLabel, `The SSH connection to ${hostLabel} closed before it presented a host key.`, { code: "protocol" }));
    };
    client.on("error", (e) => done(mapConnectError(hostLabel, e, timeoutMs)));
    client.on("close", () => done(null));
    client.connect({
      host: address,
      port,
      readyTimeout: timeoutMs,
      username: "tlsfleet-key-scan",
      hostVerifier: (key: Buffer): boolean => {
        presented = { fingerprint: sshFingerprint(key), type: keyTypeOfBlob(key) };
        return false;
      },
    });
  });
}

function mapConnectError(hostLabel: string, e: unknown, connectTimeoutMs: number): TransportError {
  const err = e as (Error & { level?: string; code?: string }) | undefined;
  const message = err?.message ?? String(e);
  if (err?.level === "client-authentication") {
    return new AuthError(hostLabel, "SSH authentication failed with every method offered");
  }
  if (err?.level === "client-timeout" || /Timed out while waiting for handshake/i.test(message)) {
    return new TransportError(
      hostLabel,
      `No SSH connection to ${hostLabel} within ${Math.round(connectTimeoutMs / 1000)} s. Check the address, the port and any firewall in between.`,
      { code: "timeout", cause: e },
    );
  }
  if (/privateKey|passphrase|Cannot parse/i.test(message)) {
    // ssh2's own text here names the problem (format, encryption), never the key itself.
    return new TransportError(hostLabel, `The SSH key assigned to ${hostLabel} cannot be used: ${message.slice(0, 200)}. Replace the credential.`, {
      code: "config",
    });
  }
  if (err?.level === "client-socket" || (err?.code && /^E[A-Z]+$/.test(err.code))) {
    return new TransportError(hostLabel, `Cannot connect to SSH on ${hostLabel}: ${err?.code ?? message}. Check the address, the port and that sshd runs.`, {
      code: "connect",
      cause: e,
    });
  }
  return new TransportError(hostLabel, `The SSH handshake with ${hostLabel} failed: ${message.slice(0, 200)}.`, { code: "protocol", cause: e });
}

interface ChannelInternals {
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
}

/** Sends the SSH "signal" request (RFC 4254 6.9). ssh2's public `channel.signal()` silently does
 *  nothing once our side has sent EOF (it checks `writable`), and we send EOF right after starting
 *  every command, so the request goes through the protocol object the public method itself uses
 *  (ssh2 1.x lib/Channel.js). OpenSSH (7.9+) then killpg()s the session, except for root logins:
 *  sshd skips the post-auth privilege separation child for uid 0 and refuses with "session
 *  signalling requires privilege separation" (measured on OpenSSH 9.2, Debian 12). Hence the
 *  PID-based kill below as well. */
function sendSignal(channel: ClientChannel, name: "KILL" | "TERM"): void {
  const internals = channel as unknown as ChannelInternals;
  const id = internals.outgoing?.id;
  const protocol = internals._client?._protocol;
  try {
    if ((internals.outgoing?.state === "open" || internals.outgoing?.state === "eof") && typeof id === "number" && typeof protocol?.signal === "function") {
      protocol.signal.call(protocol, id, name);
    }
  } catch {
    /* the channel is already gone */
  }
}

// On Linux every argv runs as `sh -c PID_SCRIPT sh ARGV...`: the script is a constant, the argv
// reaches it as positional parameters ("$@", never re-parsed), and it reports its PID on stderr
// before exec'ing the program, so a command that must be stopped can be killed by PID from a
// second channel whatever the login user (see sendSignal for why the SSH signal is not enough).
// `exec` keeps the PID: it is the program's own, and the process group leader when the login
// shell exec'd `sh` (bash does for a single command), so pipelines it starts die with it.
const PID_MARKER = "tlsfleet-pid:";
const PID_SCRIPT = `printf '${PID_MARKER}%s\\n' "$$" >&2; exec "$@"`;
const PID_LINE = /^tlsfleet-pid:(\d{1,10})\n/;
const KILL_WAIT_MS = 3_000;

class OpenSshSession implements SshSession {
  readonly kind = "ssh" as const;
  private tail: Promise<unknown> = Promise.resolve();
  private lost: Error | null = null;
  private closing = false;
  private readonly onLost = new Set<(cause: Error) => void>();

  constructor(
    private readonly ssh: NodeSSH,
    private readonly conn: Client,
    readonly hostLabel: string,
    readonly remoteOs: RemoteOs,
    readonly hostKeyFingerprint: string,
    readonly hostKeyType: string,
    readonly hostKeyPinned: boolean,
  ) {
    // Without an 'error' listener an EventEmitter error (socket reset, keepalive timeout) would
    // crash the worker process.
    conn.on("error", (e: Error) => this.markLost(e));
    conn.on("close", () => this.markLost(new Error("connection closed")));
    conn.on("end", () => this.markLost(new Error("connection ended")));
  }

  private markLost(cause: Error): void {
    if (!this.lost) this.lost = cause;
    for (const cb of [...this.onLost]) cb(cause);
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const copy = [...argv];
    const run = this.tail.then(() => this.runOne(copy, opts));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Kills a remote process (group) by PID on a channel of its own; resolves within KILL_WAIT_MS
   *  whatever happens, since it only ever runs on the way to reporting another error. */
  private killByPid(pid: number): Promise<void> {
    if (this.lost) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, KILL_WAIT_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      try {
        // pid is digits we parsed ourselves; "-PID" is the process group.
        this.conn.exec(`kill -KILL -- -${pid} 2>/dev/null || kill -KILL ${pid} 2>/dev/null`, (err, ch) => {
          if (err) return done();
          ch.on("close", done);
          ch.on("error", done);
          ch.resume();
          ch.stderr.resume();
          ch.end();
        });
      } catch {
        done();
      }
    });
  }

  private runOne(argv: string[], opts: ExecOptions): Promise<ExecResult> {
    const what = `The command ${describeCommand(argv)}`;
    const whatInSentence = `the command ${describeCommand(argv)}`;
    if (this.lost || this.closing) {
      return Promise.reject(
        new TransportError(this.hostLabel, `The SSH session to ${this.hostLabel} is ${this.closing ? "closed" : "no longer connected"}; ${whatInSentence} was not sent.`, {
          code: "connect",
          ...(this.lost ? { cause: this.lost } : {}),
        }),
      );
    }
    const linux = this.remoteOs === "linux";
    let command: string;
    try {
      // Checked alone first so that an unquotable argument is reported with its own index.
      quoteForRemote(this.remoteOs, argv);
      command = linux ? quoteForRemote("linux", ["sh", "-c", PID_SCRIPT, "sh", ...argv]) : quoteForRemote("windows", argv);
    } catch (e) {
      if (e instanceof UnquotableArgumentError) {
        return Promise.reject(new TransportError(this.hostLabel, `${what} was not sent to ${this.hostLabel}: ${e.message}.`, { code: "unquotable", cause: e }));
      }
      return Promise.reject(e);
    }
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const maxBytes = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const onLimit = opts.onOutputLimit ?? "error";
    const signal = opts.signal;

    return new Promise<ExecResult>((resolve, reject) => {
      const started = performance.now();
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let received = 0;
      let limitHit = false;
      let exitCode: number | null = null;
      let channel: ClientChannel | null = null;
      let settled = false;
      let stopping = false;
      // Linux: the first stderr bytes are our PID line, held back until complete.
      let pidPending: Buffer | null = linux ? Buffer.alloc(0) : null;
      let pid: number | null = null;

      const result = (code: number | null, truncated: boolean): ExecResult => ({
        exitCode: code,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        truncated,
        durationMs: Math.round(performance.now() - started),
      });
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.onLost.delete(onDrop);
        fn();
      };
      // Stops the remote command, then settles: SIGKILL by SSH signal (non-root logins), by PID
      // (any login), and the channel closed (a writer then dies of SIGPIPE; Windows OpenSSH ends
      // the process with its channel).
      const stopThen = (fn: () => void) => {
        if (stopping || settled) return;
        stopping = true;
        clearTimeout(timer);
        const ch = channel;
        const kill = pid !== null ? this.killByPid(pid) : Promise.resolve();
        if (ch) sendSignal(ch, "KILL");
        void kill.finally(() => {
          if (ch) {
            try {
              ch.close();
            } catch {
              /* already gone */
            }
          }
          settle(fn);
        });
      };
      const timer = setTimeout(() => stopThen(() => reject(new RemoteTimeoutError(this.hostLabel, timeoutMs, what))), timeoutMs);
      const onAbort = () =>
        stopThen(() => reject(new TransportError(this.hostLabel, `${what} on ${this.hostLabel} was cancelled.`, { code: "aborted", cause: signal?.reason })));
      const onDrop = (cause: Error) => {
        settle(() =>
          reject(
            new TransportError(
              this.hostLabel,
              this.closing
                ? `The SSH session to ${this.hostLabel} was closed while ${whatInSentence} was running.`
                : `The SSH connection to ${this.hostLabel} was lost while ${whatInSentence} was running; it may or may not have completed. Check the host, then run a config check before retrying.`,
              { code: "connect", cause },
            ),
          ),
        );
      };
      if (signal?.aborted) {
        settle(() => reject(new TransportError(this.hostLabel, `${what} on ${this.hostLabel} was cancelled before it was sent.`, { code: "aborted", cause: signal.reason })));
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.onLost.add(onDrop);

      const keep = (into: Buffer[], chunk: Buffer) => {
        if (limitHit || stopping || settled || chunk.length === 0) return;
        if (received + chunk.length > maxBytes) {
          limitHit = true;
          const room = maxBytes - received;
          if (room > 0) into.push(chunk.subarray(0, room));
          received = maxBytes;
          if (onLimit === "truncate") {
            stopThen(() => resolve(result(null, true)));
          } else {
            stdout.length = 0;
            stderr.length = 0;
            stopThen(() => reject(new RemoteOutputLimitError(this.hostLabel, maxBytes, what)));
          }
          return;
        }
        into.push(chunk);
        received += chunk.length;
      };
      const onStderr = (chunk: Buffer) => {
        if (pidPending === null) return keep(stderr, chunk);
        pidPending = Buffer.concat([pidPending, chunk]);
        const nl = pidPending.indexOf(0x0a);
        if (nl < 0 && pidPending.length < 64) return;
        const head = pidPending.subarray(0, nl + 1).toString("latin1");
        const m = PID_LINE.exec(head);
        const rest = m ? pidPending.subarray(nl + 1) : pidPending;
        if (m) pid = Number(m[1]);
        pidPending = null;
        keep(stderr, rest);
      };

      try {
        this.conn.exec(command, (err, ch) => {
          if (err) {
            settle(() => reject(new TransportError(this.hostLabel, `${this.hostLabel} refused to start ${whatInSentence}: ${err.message}.`, { code: "remote-fault", cause: err })));
            return;
          }
          if (settled || stopping) {
            try {
              ch.close();
            } catch {
              /* ignore */
            }
            return;
          }
          channel = ch;
          ch.on("data", (chunk: Buffer) => keep(stdout, chunk));
          ch.stderr.on("data", onStderr);
          ch.on("exit", (code: number | null) => {
            exitCode = typeof code === "number" ? code : null;
          });
          ch.on("close", () => {
            if (stopping) return;
            // A PID line cut short by the program's exit (never seen in practice) is output.
            if (pidPending && pidPending.length > 0) keep(stderr, pidPending);
            pidPending = null;
            settle(() => resolve(result(exitCode, false)));
          });
          ch.on("error", (e: Error) => onDrop(e));
          if (opts.stdin !== undefined) ch.end(opts.stdin);
          else ch.end();
        });
      } catch (e) {
        settle(() => reject(new TransportError(this.hostLabel, `${what} could not be sent to ${this.hostLabel}.`, { code: "connect", cause: e })));
      }
    });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    try {
      this.ssh.dispose();
    } catch {
      /* already closed */
    }
  }
}
