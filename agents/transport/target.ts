// The allowed-targets check as the transports report it: lib/tls/connect-target.ts decides, and
// its refusals become TransportErrors the operator can act on.
import type { AllowList } from "../../lib/tls/allowlist";
import { checkTarget, TargetRefusedError, TargetUnresolvedError, type CheckedTarget, type DenyEntry, type Resolver } from "../../lib/tls/connect-target";
import { TransportError } from "./types";

/** What a transport needs to check its target; the same fields on SshOptions and WinRmOptions. */
export interface TargetCheckOptions {
  /** Where sessions may go (Settings, docs/security.md "Allowed targets"); null/absent: anywhere. */
  allowList?: AllowList | null;
  /** Resolves the host name once per session. Default: the system resolver. For tests. */
  resolver?: Resolver;
  /** Default: the built-in deny list and the database host (connect-target.ts). */
  denyList?: readonly DenyEntry[];
}

/** Resolves and checks `host`; the session connects to the returned address and nowhere else. */
export async function checkTransportTarget(host: string, hostLabel: string, opts: TargetCheckOptions, timeoutMs: number): Promise<CheckedTarget> {
  try {
    return await checkTarget(host, { allowList: opts.allowList ?? null, resolver: opts.resolver, deny: opts.denyList, timeoutMs });
  } catch (e) {
    if (e instanceof TargetRefusedError) {
      throw new TransportError(hostLabel, `${hostLabel} is outside the allowed targets (Settings > Scans): ${e.reason}; no connection was made.`, { code: "config", cause: e });
    }
    if (e instanceof TargetUnresolvedError) {
      throw new TransportError(hostLabel, `Cannot resolve ${e.host} (${e.detail}); check the host's address. No connection was made.`, { code: "connect", cause: e });
    }
    throw e;
  }
}
