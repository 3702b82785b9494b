import type { AuditChainStatus } from "@/lib/audit/verify";
import { formatUtc } from "@/lib/time";

/** The answer first: is the trail intact, up to where, and since when has it not been checked. */
export function ChainStatus({ status }: { status: AuditChainStatus }) {
  const cp = status.checkpoint;
  if (status.state === "broken") {
    return (
      <div role="alert" data-testid="chain-status" className="rounded-lg border border-red-300 bg-red-50 p-4 text-sm text-red-900">
        <p className="font-semibold">Audit chain broken ({status.problemKind}){status.problemSeq !== null ? ` at event #${status.problemSeq}` : ""}</p>
        <p className="mt-1">{status.problem}</p>
        <p className="mt-1 text-red-800">
          Found by the verification at {formatUtc(status.verifiedAt)}. Run <code>tlsfleet audit verify</code> for the full report and compare with your latest export.
        </p>
      </div>
    );
  }
  if (status.state === "unverified") {
    return (
      <div role="status" data-testid="chain-status" className="rounded-lg border border-slate-300 bg-white p-4 text-sm text-slate-800">
        <p className="font-semibold">Audit chain not verified yet</p>
        <p className="mt-1 text-slate-700">
          {status.headSeq.toLocaleString("en")} events. The worker signs a checkpoint and verifies the new events every hour; run <code>tlsfleet audit verify</code> to check now.
        </p>
      </div>
    );
  }
  const since = status.headSeq - status.verifiedUpToSeq;
  return (
    <div role="status" data-testid="chain-status" className="rounded-lg border border-emerald-300 bg-emerald-50 p-4 text-sm text-emerald-900">
      <p className="font-semibold">
        {cp ? `Verified up to checkpoint ${cp.number} at ${formatUtc(cp.at)}` : `Verified up to event #${status.verifiedUpToSeq}`}
      </p>
      <p className="mt-1 text-emerald-800">
        Events #1 to #{status.verifiedUpToSeq.toString()} intact (checked {formatUtc(status.verifiedAt)}).{" "}
        {since > 0n ? `${since.toLocaleString("en")} newer ${since === 1n ? "event is" : "events are"} checked at the next checkpoint.` : "No newer events."}
      </p>
    </div>
  );
}
