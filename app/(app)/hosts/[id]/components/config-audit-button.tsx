"use client";
import { useState, useTransition } from "react";
import Link from "next/link";
import { Button } from "@/app/_components/ui/button";
import { Alert } from "@/app/_components/ui/alert";
import { runHostAuditAction } from "../actions";

/** Reads this host's TLS configuration over its transport now (a config audit job of one host). */
export function ConfigAuditButton({ hostId, disabledReason }: { hostId: string; disabledReason?: string }) {
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string; jobId?: string } | null>(null);

  function run() {
    startTransition(async () => {
      const res = await runHostAuditAction({ hostId });
      if (res.ok) setResult({ ok: true, text: res.message ?? "Config audit started", jobId: (res.data as { jobId?: string } | undefined)?.jobId });
      else setResult({ ok: false, text: res.error });
    });
  }

  return (
    <div className="flex flex-col items-end gap-2">
      <Button type="button" variant="secondary" onClick={run} disabled={pending || !!disabledReason} title={disabledReason}>
        {pending ? "Starting audit…" : "Run config audit"}
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
