// Opening a credentialed session to a host: credential -> transport -> host-key / certificate
// pin. The one place every task that logs in to a host goes through (audit, remediate, verify,
// rollback), so the order that protects the credential holds for all of them: the target is
// checked against the allowed ranges, the credential is decrypted only then, and it is offered
// only after the host has proved its identity against the pinned key (SSH: in the key exchange,
// before authentication; WinRM HTTPS: the certificate thumbprint, before any byte is written).
import { createHash } from "node:crypto";
import tls from "node:tls";
import { secretForWorker } from "../../lib/credentials/service";
import type { AllowList } from "../../lib/tls/allowlist";
import { TargetRefusedError as CheckRefusedError, type Resolver } from "../../lib/tls/connect-target";
import { openSshSession } from "./ssh";
import { checkTransportTarget } from "./target";
import { TransportError, type RemoteSession } from "./types";
import { openWinRmSession } from "./winrm";

/** What opening a session needs to know about a host (the Prisma Host satisfies it structurally). */
export interface HostConnection {
  name: string;
  address: string;
  platform: "windows" | "linux" | "other";
  transport: "ssh" | "winrm" | "none";
  port: number | null;
  credentialId: string | null;
  pinnedKey: string | null;
  pinnedAt: Date | null;
}

export interface OpenedSession {
  session: RemoteSession;
  /** What the host presented (SSH fingerprint, WinRM certificate SHA-256); null over WinRM/HTTP. */
  presented: string | null;
  /** True: it matched the pinned key. False: first contact (nothing pinned yet). */
  pinned: boolean;
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

/**
 * Opens a session to `host` with its credential. Throws TransportError: code "config" for what
 * the operator must fix on the host (no credential, wrong credential kind, outside the allowed
 * targets), "connect"/"timeout" when the host cannot be reached, "host-key-mismatch" when it
 * presents another key than the pinned one (no credential was offered).
 */
export async function openHostSession(host: HostConnection, opts: { allowList: AllowList; connectTimeoutMs?: number; resolver?: Resolver }): Promise<OpenedSession> {
  const label = hostLabel(host);
  if (host.transport === "none" || !host.credentialId) throw new TransportError(label, "no credential: set one on the host (and its transport, ssh or winrm)", { code: "config" });
  // Resolved and checked once, before the credential is decrypted. The transports get a resolver
  // that answers with this checked address only: they check it again and connect there, and the
  // name is not looked up a second time (no DNS-rebinding window between check and connect).
  const checked = await checkTransportTarget(host.address, label, { allowList: opts.allowList, resolver: opts.resolver }, opts.connectTimeoutMs ?? 10_000).catch((e: unknown) => {
    const refusal = e instanceof TransportError && e.cause instanceof CheckRefusedError ? e.cause : null;
    throw refusal ? new TargetRefusedError(label, refusal.address ?? host.address, refusal.detail) : e;
  });
  const pinnedResolver: Resolver = () => Promise.resolve([checked.address]);
  const secret = await secretForWorker(host.credentialId).catch((err: unknown) => {
    const message = err instanceof Error && (err as { userFacing?: boolean }).userFacing ? err.message : "The host's credential cannot be decrypted with the configured keys";
    throw new TransportError(label, message, { code: "config" });
  });
  const timeout = opts.connectTimeoutMs ? { connectTimeoutMs: opts.connectTimeoutMs } : {};

  if (host.transport === "ssh") {
    if (secret.kind !== "ssh_key" && secret.kind !== "ssh_password") {
      throw new TransportError(label, `The host's transport is SSH but its credential is a ${secret.kind.replace("_", " ")} credential: assign an SSH credential on the host`, { code: "config" });
    }
    const s = await openSshSession({
      host: host.address,
      port: host.port ?? 22,
      hostLabel: label,
      credential: secret.kind === "ssh_key" ? { kind: "ssh-key", username: secret.username, privateKey: secret.secret } : { kind: "ssh-password", username: secret.username, password: secret.secret },
      remoteOs: host.platform === "windows" ? "windows" : "linux",
      pinnedFingerprint: host.pinnedKey,
      pinnedAt: host.pinnedAt,
      allowList: opts.allowList,
      resolver: pinnedResolver,
      ...timeout,
    });
    return { session: s, presented: s.hostKeyFingerprint, pinned: s.hostKeyPinned };
  }

  if (secret.kind !== "winrm_ntlm" && secret.kind !== "winrm_basic") {
    throw new TransportError(label, `The host's transport is WinRM but its credential is a ${secret.kind.replace("_", " ")} credential: assign a WinRM credential on the host`, { code: "config" });
  }
  const port = host.port ?? 5986;
  // 5985 is WinRM's HTTP listener (NTLM with message encryption); anything else is HTTPS.
  const transport = port === 5985 ? "http" : "https";
  const auth = secret.kind === "winrm_basic" ? { kind: "basic" as const, username: secret.username, password: secret.secret } : { kind: "ntlm" as const, username: secret.username, password: secret.secret };
  let presented: string | null = null;
  let pin = host.pinnedKey;
  if (transport === "https" && !pin) {
    // First contact: trust this certificate for this read-only session, record it as pending.
    presented = await winrmCertificateThumbprint(checked.address, checked.name ?? undefined, port, opts.connectTimeoutMs ?? 10_000, label);
    pin = presented;
  }
  const session = await openWinRmSession({
    host: host.address,
    port,
    transport,
    auth,
    hostLabel: label,
    allowList: opts.allowList,
    resolver: pinnedResolver,
    // Always pinned (confirmed, or this first contact's certificate for read-only checks), so a
    // TLS 1.0 management channel to a host that still needs the fix is still authenticated.
    ...(transport === "https" ? { tls: { thumbprint: pin!, minVersion: "TLSv1" as const } } : {}),
    ...timeout,
  });
  if (transport === "https" && host.pinnedKey) presented = host.pinnedKey;
  return { session, presented, pinned: transport === "https" && !!host.pinnedKey };
}
