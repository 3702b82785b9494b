"use client";
import { useState, useTransition } from "react";
import Link from "next/link";
import { Button } from "@/app/_components/ui/button";
import { Alert } from "@/app/_components/ui/alert";
import { startScanAction } from "@/app/(app)/jobs/actions";

/** Probes every endpoint of this host now (a scan job of one host); links to the job to follow it. */
export function ScanButton({ hostId }: { hostId: string }) {
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string; jobId?: string } | null>(null);

  function scan() {
    startTransition(async () => {
      const res = await startScanAction({ hostIds: [hostId] });
      if (res.ok) setResult({ ok: true, text: res.message ?? "Scan started", jobId: (res.data as { jobId?: string } | undefined)?.jobId });
      else setResult({ ok: false, text: res.error });
    });
  }

  return (
    <div className="flex flex-col items-end gap-2">
      <Button type="button" onClick={scan} disabled={pending}>{pending ? "Starting scan…" : "Scan this host"}</Button>
      {result && (
        <Alert kind={result.ok ? "success" : "error"}>
          {result.text}
          {result.jobId && (
            <>
              {": "}
              <Link href={`/jobs/${result.jobId}`} className="font-medium underline">follow the job</Link>
            </>
          )}
        </Alert>
      )}
    </div>
  );
}
