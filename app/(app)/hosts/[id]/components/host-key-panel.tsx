import { formatUtc } from "@/lib/time";
import { HostKeyButtons } from "./host-key-buttons";
import { HostTrustControls } from "./host-trust-controls";

/**
 * The pinned identity of the host's transport (SSH host-key fingerprint, WinRM certificate
 * thumbprint) and a key waiting for confirmation: recorded by a first contact, or presented
 * instead of the pinned one (then audits are refused until an admin decides).
 */
export function HostKeyPanel({
  hostId,
  transport,
  pinnedKey,
  pinnedAt,
  pendingKey,
  trust,
  canManage,
}: {
  hostId: string;
  transport: string;
  pinnedKey: string | null;
  pinnedAt: Date | null;
  pendingKey: string | null;
  trust: { trustOnFirstUse: boolean; allowWinrmHttp: boolean; legacyTls: boolean };
  canManage: boolean;
}) {
  const what = transport === "winrm" ? "WinRM certificate thumbprint" : "SSH host key";
  return (
    <div className="flex flex-col gap-3 text-sm" data-testid="host-key-panel">
      <dl className="grid grid-cols-1 gap-2 sm:grid-cols-[auto_minmax(0,1fr)] sm:gap-x-4">
        <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">Pinned {what}</dt>
        <dd className="break-all font-mono text-xs" data-testid="pinned-key">
          {pinnedKey ?? (
            <span className="font-sans text-slate-600">
              {trust.trustOnFirstUse
                ? "none yet: the next config audit pins the key the host presents (trust on first use)"
                : "none yet: a config audit reads the key the host presents (without logging in) for an admin to confirm; nothing is sent before that"}
            </span>
          )}
        </dd>
        <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">Pinned at</dt>
        <dd className="text-xs">{pinnedAt ? formatUtc(pinnedAt) : <span className="text-slate-600">–</span>}</dd>
      </dl>
      {pendingKey && (
        <div className={`rounded-md border p-3 ${pinnedKey ? "border-red-300 bg-red-50" : "border-amber-300 bg-amber-50"}`} data-testid="pending-key">
          <p className={`text-sm font-medium ${pinnedKey ? "text-red-800" : "text-amber-900"}`}>
            {pinnedKey
              ? `The host presented a different ${what}: config audits are refused until an admin confirms the new one.`
              : `First contact recorded this ${what}; confirm it after checking it on the host (e.g. ssh-keygen -lf on its host key).`}
          </p>
          <p className="mt-1 break-all font-mono text-xs">{pendingKey}</p>
          {!canManage && <p className="mt-1 text-xs text-slate-600">An admin confirms host keys.</p>}
        </div>
      )}
      {canManage && (pendingKey || pinnedKey) && <HostKeyButtons hostId={hostId} pendingKey={pendingKey} hasPinned={pinnedKey !== null} />}
      {canManage && transport !== "none" && <HostTrustControls hostId={hostId} transport={transport} values={trust} />}
      {!canManage && (trust.trustOnFirstUse || trust.allowWinrmHttp || trust.legacyTls) && (
        <p className="text-xs text-slate-600">
          Set by an admin: {[trust.trustOnFirstUse && "trust on first use", trust.allowWinrmHttp && "WinRM over HTTP allowed", trust.legacyTls && "TLS 1.0/1.1 allowed for WinRM"].filter(Boolean).join(", ")}
        </p>
      )}
    </div>
  );
}
