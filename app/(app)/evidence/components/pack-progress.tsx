"use client";
// A pack's progress while the worker generates it (polls /api/v1/evidence-packs/<id> every
// second until it has finished), then the download.
import { useEffect, useState } from "react";
import type { PackView } from "@/lib/evidence/packs";
import { Alert } from "@/app/_components/ui/alert";

const POLL_MS = 1000;
const finished = (p: PackView) => p.state === "succeeded" || p.state === "failed";

export function PackProgress({ initial }: { initial: PackView }) {
  const [pack, setPack] = useState(initial);
  const [stale, setStale] = useState(false);
  useEffect(() => {
    if (finished(pack)) return;
    const timer = setTimeout(async () => {
      try {
        const res = await fetch(`/api/v1/evidence-packs/${pack.id}`, { cache: "no-store" });
        if (!res.ok) throw new Error(String(res.status));
        setPack(((await res.json()) as { pack: PackView }).pack);
        setStale(false);
      } catch {
        setStale(true);
        setPack((p) => ({ ...p }));
      }
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [pack]);

  const total = Math.max(pack.hostsTotal, 1);
  const percent = pack.state === "succeeded" ? 100 : Math.min(100, Math.round((pack.hostsDone / total) * 100));
  return (
    <div className="flex flex-col gap-3" data-testid="pack-progress" data-state={pack.state}>
      <div className="flex items-center justify-between text-sm">
        <span>
          <span className="font-medium">{pack.state === "succeeded" ? "Ready" : pack.state === "failed" ? "Failed" : pack.state === "queued" ? "Waiting for a worker" : pack.stage}</span>
          <span className="text-slate-600">
            {" "}
            · {pack.hostsDone.toLocaleString("en")} of {pack.hostsTotal.toLocaleString("en")} hosts
          </span>
        </span>
        {stale && <span className="text-xs text-amber-700">Reconnecting…</span>}
      </div>
      <div
        role="progressbar"
        aria-label="Evidence pack progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-valuetext={`${pack.stage}: ${pack.hostsDone} of ${pack.hostsTotal} hosts`}
        className="h-3 w-full overflow-hidden rounded-full bg-slate-100"
      >
        <div className={`h-full ${pack.state === "failed" ? "bg-red-600" : pack.state === "succeeded" ? "bg-green-600" : "bg-blue-500"}`} style={{ width: `${percent}%` }} />
      </div>
      {pack.state === "failed" && <Alert kind="error">{pack.error ?? "Generation failed"}</Alert>}
      {pack.state === "succeeded" && (
        <div className="flex flex-wrap items-center gap-3">
          <a href={`/api/v1/evidence-packs/${pack.id}/pdf`} download className="inline-flex items-center rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700">
            Download PDF
          </a>
          <span className="text-xs text-slate-600">
            {pack.pdfBytes !== null ? `${Math.ceil(pack.pdfBytes / 1024).toLocaleString("en")} KiB · ` : ""}sha256 <code className="break-all">{pack.pdfSha256}</code>
          </span>
        </div>
      )}
    </div>
  );
}
