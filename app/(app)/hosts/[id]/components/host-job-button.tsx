"use client";
import { useState, useTransition } from "react";
import Link from "next/link";
import { Button } from "@/app/_components/ui/button";
import { Alert } from "@/app/_components/ui/alert";
import { startAuditAction, startOutboundCheckAction, startScanAction } from "@/app/(app)/jobs/actions";

// The jobs the host page starts on its one host.
const JOBS = {
  // Probes every endpoint of the host now.
  scan: { label: "Scan this host", pendingLabel: "Starting scan…", startedText: "Scan started", variant: "primary", start: startScanAction },
  // Reads the host's TLS configuration over its transport now.
  audit: { label: "Run config audit", pendingLabel: "Starting audit…", startedText: "Config audit started", variant: "secondary", start: startAuditAction },
  // Makes the host send one message to the outbound check sink.
  outbound: { label: "Check outbound TLS", pendingLabel: "Starting check…", startedText: "Outbound check started", variant: "secondary", start: startOutboundCheckAction },
} as const;

/** A button that starts a job of this one host and then links to the job page to follow it. */
export function HostJobButton({ job, hostId, disabledReason }: { job: keyof typeof JOBS; hostId: string; disabledReason?: string }) {
  const j = JOBS[job];
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string; jobId?: string } | null>(null);

  function run() {
    startTransition(async () => {
      const res = await j.start({ hostIds: [hostId] });
      if (res.ok) setResult({ ok: true, text: res.message ?? j.startedText, jobId: res.data?.jobId });
      else setResult({ ok: false, text: res.error });
    });
  }

  return (
    <div className="flex flex-col items-end gap-2">
      <Button type="button" variant={j.variant} onClick={run} disabled={pending || !!disabledReason} title={disabledReason}>
        {pending ? j.pendingLabel : j.label}
      </Button>
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
