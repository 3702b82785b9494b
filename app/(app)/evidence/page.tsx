import type { Metadata } from "next";
import Link from "next/link";
import { requirePageUser } from "@/lib/auth/guard";
import { listEvidencePacks } from "@/lib/evidence/packs";
import { Card, EmptyState } from "@/app/_components/ui/card";
import { TableHead } from "@/app/_components/ui/table";
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
        <Card>
          <table className="w-full text-left text-sm">
            <TableHead columns={["Pack", "State", "Hosts", "Requested", "Download"]} />
            <tbody>
              {packs.map((p) => (
                <tr key={p.id} className="border-t border-slate-100 align-top">
                  <td className="py-2 pr-3">
                    <Link href={`/evidence/${p.id}`} className="text-brand-700 underline">
                      {p.title}
                    </Link>
                    <div className="text-xs text-slate-500">since {formatUtc(p.periodStart)}</div>
                  </td>
                  <td className="py-2 pr-3">{p.state === "running" ? `${STATE_LABEL.running}: ${p.stage}` : STATE_LABEL[p.state]}</td>
                  <td className="py-2 pr-3 tabular-nums">{p.hostsTotal.toLocaleString("en")}</td>
                  <td className="py-2 pr-3">
                    {formatUtc(p.createdAt)}
                    <div className="text-xs text-slate-500">{p.requestedBy}</div>
                  </td>
                  <td className="py-2">
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
        </Card>
      )}
    </div>
  );
}
