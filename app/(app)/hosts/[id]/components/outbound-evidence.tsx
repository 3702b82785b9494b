import Link from "next/link";

const OUTCOME: Record<string, { label: string; tone: string }> = {
  negotiated: { label: "TLS 1.2+ negotiated", tone: "bg-emerald-50 text-emerald-800 ring-emerald-600/20" },
  refused: { label: "Refused: older TLS only", tone: "bg-red-50 text-red-800 ring-red-600/20" },
  no_starttls: { label: "No STARTTLS", tone: "bg-red-50 text-red-800 ring-red-600/20" },
  no_connection: { label: "No connection", tone: "bg-slate-100 text-slate-700 ring-slate-500/20" },
};

/** The host's mail client towards a TLS-1.2-only server (the outbound check sink). */
export function OutboundEvidence({ check, windows = false }: { check: { checkedAt: Date; outcome: string; detail: string; jobId: string | null } | null; windows?: boolean }) {
  if (!check) {
    const how = windows ? "connect with Windows' own TLS client (SCHANNEL and .NET defaults, as Exchange's transport uses them) and send one message" : "send one message through its own mail software";
    return <p className="text-sm text-slate-600">No outbound check yet. &ldquo;Check outbound TLS&rdquo; makes this host {how} to tlsfleet&apos;s check server, which, like Microsoft 365, accepts TLS 1.2 or newer only.</p>;
  }
  const o = OUTCOME[check.outcome] ?? { label: check.outcome, tone: "bg-slate-100 text-slate-700 ring-slate-500/20" };
  return (
    <div className="space-y-2 text-sm" data-testid="outbound-evidence">
      <span className={`inline-flex rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${o.tone}`}>{o.label}</span>
      <p className="text-slate-800">{check.detail}</p>
      {check.jobId && (
        <p className="text-xs text-slate-600">
          <Link href={`/jobs/${check.jobId}`} className="underline">The check&apos;s job and log</Link>
        </p>
      )}
    </div>
  );
}
