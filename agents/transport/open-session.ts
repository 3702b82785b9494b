// Opening a credentialed session to a host: scope -> host identity -> credential -> transport.
// The one place every task that logs in to a host goes through (audit, plan, remediate, verify,
// rollback), so the order that protects the credential holds for all of them (docs/security.md
// "Credential scope", "Host identity (trust on first use)"):
// 1. the target is checked against the allowed ranges;
// 2. the host must be inside the credential's scope (admins set it);
// 3. WinRM over HTTP only for hosts an admin flagged;
// 4. without a pinned key the key is read WITHOUT authenticating (SSH key exchange, WinRM TLS
//    handshake): refused unless the host is set to trust on first use (then it is pinned first),
//    and refused when it differs from a key already waiting for confirmation;
// 5. only then is the credential decrypted, and offered only to the pinned key (SSH: checked in
//    the key exchange, before authentication; WinRM HTTPS: the certificate thumbprint, before
//    any byte is written).
import { createHash } from "node:crypto";
import tls from "node:tls";
import { credentialScope } from "../../lib/credentials/scope";
import { outOfScopeMessage, scopeMatch } from "../../lib/credentials/scope-match";
import { secretForWorker } from "../../lib/credentials/service";
import { pinKeyOnFirstUse } from "../../lib/hosts/host-keys";
import type { AllowList } from "../../lib/tls/allowlist";
import { TargetRefusedError as CheckRefusedError, type Resolver } from "../../lib/tls/connect-target";
import { fetchSshHostKey, openSshSession } from "./ssh";
import { checkTransportTarget } from "./target";
import { HostKeyMismatchError, HostKeyUnconfirmedError, TransportError, type RemoteSession } from "./types";
import { openWinRmSession } from "./winrm";
import { isAppError } from "../../lib/errors";
import type { HostTrust } from "../../lib/inventory/model";

/** What opening a session needs to know about a host (the Prisma Host satisfies it structurally). */
export interface HostConnection extends HostTrust {
  id: string;
  name: string;
  group: string | null;
  address: string;
  platform: "windows" | "linux" | "other";
  transport: "ssh" | "winrm" | "none";
  port: number | null;
  credentialId: string | null;
}

export interface OpenedSession {
  session: RemoteSession;
  /** What the host presented (SSH fingerprint, WinRM certificate SHA-256); null over WinRM/HTTP. */
  presented: string | null;
  /** True: it matched the pinned key (always, except WinRM over HTTP where there is none). */
  pinned: boolean;
  /** This contact pinned the key on first use (the host is set to trust on first use). */
  pinnedOnFirstUse: boolean;
}

/** The host is outside its credential's scope: nothing was decrypted, nothing was sent. */
export class CredentialScopeError extends TransportError {
  constructor(label: string, message: string) {
    super(label, `${message}. No connection was made`, { code: "config" });
    this.name = "CredentialScopeError";
  }
}

/** First contact presented another key than the one already waiting for an admin. */
export class PendingKeyMismatchError extends HostKeyMismatchError {
  constructor(label: string, identity: "ssh-host-key" | "tls-certificate", pending: string, actual: string) {
    super(label, identity, pending, actual);
    const what = identity === "ssh-host-key" ? "SSH host key" : "WinRM certificate";
    this.message =
      `The ${what} of ${label} differs from the one recorded at first contact and still waiting for confirmation: recorded ${pending}, now ${actual}. ` +
      `Nothing was sent and the recorded key was kept. An admin checks the host, then confirms the right key on the host page (or forgets the recorded one).`;
    this.name = "PendingKeyMismatchError";
  }
}

/** The host's address is outside the allowed targets: nothing was sent, not even a SYN. */
export class TargetRefusedError extends TransportError {
  constructor(
    label: string,
    /** The refused address (what the host's name resolved to), or the host's address as given. */
    readonly address: string,
    reason = "which is outside the allowed target ranges",
  ) {
    super(label, `${label} is outside the allowed targets (Settings > Scans): ${address}, ${reason}; no connection was made`, { code: "config" });
    this.name = "TargetRefusedError";
  }
}

/** The label every transport message uses: "mx1 (198.18.0.5:2222)". */
export function hostLabel(host: Pick<HostConnection, "name" | "address" | "port" | "transport">): string {
  const port = host.port ?? (host.transport === "winrm" ? 5986 : 22);
  return `${host.name} (${host.address}${host.transport === "ssh" && port === 22 ? "" : `:${port}`})`;
}

/** SHA-256 thumbprint of the certificate the WinRM HTTPS listener presents; nothing else is sent. */
function winrmCertificateThumbprint(address: string, servername: string | undefined, port: number, timeoutMs: number, label: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // A host that still needs the fix may only speak TLS 1.0/1.1 on 5986 too (HTTP.sys uses
    // SCHANNEL); OpenSSL 3 offers those only at security level 0. Only the certificate is read.
    const socket = tls.connect({ host: address, port, rejectUnauthorized: false, servername, minVersion: "TLSv1", ciphers: "ALL:@SECLEVEL=0" });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TransportError(label, `WinRM on ${label} did not complete a TLS handshake within ${Math.round(timeoutMs / 1000)} s.`, { code: "timeout" }));
    }, timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      socket.destroy();
      if (!cert?.raw) return reject(new TransportError(label, `WinRM on ${label} presented no certificate.`, { code: "protocol" }));
      resolve(createHash("sha256").update(cert.raw).digest("hex"));
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(new TransportError(label, `Cannot reach WinRM on ${label}: ${err.message}`, { code: "connect", cause: err }));
    });
  });
}

/** Pins compare without separators or case (thumbprints) and trimmed (SSH fingerprints). */
export function normalizedPin(key: string | null): string | null {
  if (!key) return null;
  return /^[0-9a-f:\s]+$/i.test(key) ? key.replace(/[\s:]/g, "").toLowerCase() : key.trim();
}

/** The key the host presents, read without authenticating (nothing but the key exchange / TLS handshake). */
function presentedKey(host: HostConnection, address: string, servername: string | undefined, label: string, timeoutMs: number): Promise<string> {
  if (host.transport === "ssh") return fetchSshHostKey(address, host.port ?? 22, label, timeoutMs).then((k) => k.fingerprint);
  return winrmCertificateThumbprint(address, servername, host.port ?? 5986, timeoutMs, label);
}

/**
 * Opens a session to `host` with its credential. Throws TransportError: code "config" for what
 * the operator or an admin must fix on the host (no credential, wrong credential kind, outside
 * the allowed targets or the credential's scope, WinRM over HTTP not allowed), "connect"/"timeout"
 * when the host cannot be reached, "host-key-unconfirmed" on a first contact nobody confirmed,
 * "host-key-mismatch" when it presents another key than the pinned or pending one. In all of
 * these no credential was offered.
 */
export async function openHostSession(host: HostConnection, opts: { allowList: AllowList; connectTimeoutMs?: number; resolver?: Resolver }): Promise<OpenedSession> {
  const label = hostLabel(host);
  if (host.transport === "none" || !host.credentialId) throw new TransportError(label, "no credential: set one on the host (and its transport, ssh or winrm)", { code: "config" });
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  // Resolved and checked once, before the credential is decrypted. The transports get a resolver
  // that answers with this checked address only: they check it again and connect there, and the
  // name is not looked up a second time (no DNS-rebinding window between check and connect).
  const checked = await checkTransportTarget(host.address, label, { allowList: opts.allowList, resolver: opts.resolver }, timeoutMs).catch((e: unknown) => {
    const refusal = e instanceof TransportError && e.cause instanceof CheckRefusedError ? e.cause : null;
    throw refusal ? new TargetRefusedError(label, refusal.address ?? host.address, refusal.detail) : e;
  });
  const pinnedResolver: Resolver = () => Promise.resolve([checked.address]);

  const scope = await credentialScope(host.credentialId);
  if (!scope) throw new TransportError(label, "The host's credential was deleted", { code: "config" });
  if (!scopeMatch(scope, host)) throw new CredentialScopeError(label, outOfScopeMessage(scope.name, host, scope));

  const port = host.port ?? (host.transport === "winrm" ? 5986 : 22);
  // 5985 is WinRM's HTTP listener (NTLM with message encryption); anything else is HTTPS.
  const winrmHttp = host.transport === "winrm" && port === 5985;
  if (winrmHttp && !host.allowWinrmHttp) {
    throw new TransportError(label, `WinRM over HTTP (port 5985) has no certificate to check, so it is used only for hosts an admin allowed it for on the host page ("Allow WinRM over HTTP"); or use HTTPS (5986). Nothing was sent.`, { code: "config" });
  }

  const identity = host.transport === "ssh" ? ("ssh-host-key" as const) : ("tls-certificate" as const);
  let pin = host.pinnedKey;
  let pinnedOnFirstUse = false;
  if (!pin && !winrmHttp) {
    const presented = await presentedKey(host, checked.address, checked.name ?? undefined, label, timeoutMs);
    if (host.pinnedKeyPending && normalizedPin(host.pinnedKeyPending) !== normalizedPin(presented)) throw new PendingKeyMismatchError(label, identity, host.pinnedKeyPending, presented);
    if (!host.trustOnFirstUse) throw new HostKeyUnconfirmedError(label, identity, presented);
    // Pinned before anything is authenticated: the session below and every later one must
    // present this key. Lost to a concurrent contact or an admin's change: refuse, look again.
    if (!(await pinKeyOnFirstUse(host.id, presented))) throw new HostKeyUnconfirmedError(label, identity, presented);
    pin = presented;
    pinnedOnFirstUse = true;
  }

  const secret = await secretForWorker(host.credentialId).catch((err: unknown) => {
    const message = isAppError(err) ? err.message : "The host's credential cannot be decrypted with the configured keys";
    throw new TransportError(label, message, { code: "config" });
  });
  const timeout = opts.connectTimeoutMs ? { connectTimeoutMs: opts.connectTimeoutMs } : {};

  if (host.transport === "ssh") {
    if (secret.kind !== "ssh_key" && secret.kind !== "ssh_password") {
      throw new TransportError(label, `The host's transport is SSH but its credential is a ${secret.kind.replace("_", " ")} credential: assign an SSH credential on the host`, { code: "config" });
    }
    const s = await openSshSession({
      host: host.address,
      port,
      hostLabel: label,
      credential: secret.kind === "ssh_key" ? { kind: "ssh-key", username: secret.username, privateKey: secret.secret } : { kind: "ssh-password", username: secret.username, password: secret.secret },
      remoteOs: host.platform === "windows" ? "windows" : "linux",
      pinnedFingerprint: pin,
      pinnedAt: host.pinnedAt,
      requirePinned: true,
      allowList: opts.allowList,
      resolver: pinnedResolver,
      ...timeout,
    });
    return { session: s, presented: s.hostKeyFingerprint, pinned: s.hostKeyPinned, pinnedOnFirstUse };
  }

  if (secret.kind !== "winrm_ntlm" && secret.kind !== "winrm_basic") {
    throw new TransportError(label, `The host's transport is WinRM but its credential is a ${secret.kind.replace("_", " ")} credential: assign a WinRM credential on the host`, { code: "config" });
  }
  const auth = secret.kind === "winrm_basic" ? { kind: "basic" as const, username: secret.username, password: secret.secret } : { kind: "ntlm" as const, username: secret.username, password: secret.secret };
  const session = await openWinRmSession({
    host: host.address,
    port,
    transport: winrmHttp ? "http" : "https",
    auth,
    hostLabel: label,
    allowList: opts.allowList,
    resolver: pinnedResolver,
    // TLS 1.0/1.1 on the management connection only where an admin flagged the host legacy (a
    // host that still needs the fix may speak nothing newer on 5986 either: HTTP.sys uses SCHANNEL).
    ...(winrmHttp ? {} : { tls: { thumbprint: pin!, minVersion: host.legacyTls ? ("TLSv1" as const) : ("TLSv1.2" as const) } }),
    ...timeout,
  });
  return { session, presented: winrmHttp ? null : pin, pinned: !winrmHttp, pinnedOnFirstUse };
}
