import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { requirePageUser } from "@/lib/auth/guard";
import { getEvidencePack } from "@/lib/evidence/packs";
import { Card } from "@/app/_components/ui/card";
import { formatUtc } from "@/lib/time";
import { PackProgress } from "../components/pack-progress";

export const metadata: Metadata = { title: "Evidence pack" };

export default async function EvidencePackPage({ params }: { params: Promise<{ id: string }> }) {
  await requirePageUser("export");
  const pack = await getEvidencePack((await params).id);
  if (!pack) notFound();
  return (
    <div className="flex flex-col gap-4">
      <div>
        <Link href="/evidence" className="text-sm text-brand-700 underline">
          Evidence packs
        </Link>
        <h1 className="text-2xl font-semibold">{pack.title}</h1>
        <p className="text-sm text-slate-600">
          Period since {formatUtc(pack.periodStart)} · requested {formatUtc(pack.createdAt)} by {pack.requestedBy}
        </p>
      </div>
      <Card title="PDF evidence pack">
        <PackProgress initial={pack} />
      </Card>
      {pack.auditEventId && (
        <p className="text-xs text-slate-600">
          Cut from audit event #{pack.auditEventId}, hash <code className="break-all">{pack.auditHash}</code>
        </p>
      )}
    </div>
  );
}
