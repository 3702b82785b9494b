import type { Metadata } from "next";
import Link from "next/link";
import { requirePageUser } from "@/lib/auth/guard";
import { listEvidencePacks } from "@/lib/evidence/packs";
import { EmptyState } from "@/app/_components/ui/card";
import { formatUtc } from "@/lib/time";

export const metadata: Metadata = { title: "Evidence packs" };

const STATE_LABEL = { queued: "Waiting", running: "Generating", succeeded: "Ready", failed: "Failed" } as const;

export default async function EvidencePage() {
  await requirePageUser("export");
  const packs = await listEvidencePacks();
  return (
    <div className="flex flex-col gap-4">
      <div>
        <h1 className="text-2xl font-semibold">Evidence packs</h1>
        <p className="text-sm text-slate-600">PDF packs for auditors (PCI DSS 4.2.1, 2.2.5, 12.3.3). Request one from the host list (for its filter) or from a rollout.</p>
      </div>
      {packs.length === 0 ? (
        <EmptyState title="No evidence packs yet">
          <Link href="/hosts" className="text-brand-600 underline">
            Filter the host list and choose &quot;PDF evidence pack&quot;
          </Link>
        </EmptyState>
      ) : (
        <table className="w-full overflow-hidden rounded-lg border border-slate-200 bg-white text-sm shadow-sm">
          <thead className="bg-slate-50 text-left text-xs text-slate-600">
            <tr>
              <th className="px-3 py-2">Pack</th>
              <th className="px-3 py-2">State</th>
              <th className="px-3 py-2">Hosts</th>
              <th className="px-3 py-2">Requested</th>
              <th className="px-3 py-2">Download</th>
            </tr>
          </thead>
          <tbody>
            {packs.map((p) => (
              <tr key={p.id} className="border-t border-slate-100">
                <td className="px-3 py-2">
                  <Link href={`/evidence/${p.id}`} className="text-brand-700 underline">
                    {p.title}
                  </Link>
                  <div className="text-xs text-slate-500">since {formatUtc(p.periodStart)}</div>
                </td>
                <td className="px-3 py-2">{p.state === "running" ? `${STATE_LABEL.running}: ${p.stage}` : STATE_LABEL[p.state]}</td>
                <td className="px-3 py-2 tabular-nums">{p.hostsTotal.toLocaleString("en")}</td>
                <td className="px-3 py-2">
                  {formatUtc(p.createdAt)}
                  <div className="text-xs text-slate-500">{p.requestedBy}</div>
                </td>
                <td className="px-3 py-2">
                  {p.state === "succeeded" ? (
                    <a href={`/api/v1/evidence-packs/${p.id}/pdf`} download className="text-brand-700 underline">
                      PDF
                    </a>
                  ) : (
                    "—"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
