"use client";
import { useState, useTransition } from "react";
import Link from "next/link";
import { Button } from "@/app/_components/ui/button";
import { Alert } from "@/app/_components/ui/alert";

type StartResult = { ok: true; data?: unknown; message?: string } | { ok: false; error: string };

/** A button that starts a one-host job and then links to the job page to follow it. */
export function JobStartButton(props: {
  label: string;
  pendingLabel: string;
  startedText: string;
  variant?: "primary" | "secondary";
  disabledReason?: string;
  start: () => Promise<StartResult>;
}) {
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string; jobId?: string } | null>(null);

  function run() {
    startTransition(async () => {
      const res = await props.start();
      if (res.ok) setResult({ ok: true, text: res.message ?? props.startedText, jobId: (res.data as { jobId?: string } | undefined)?.jobId });
      else setResult({ ok: false, text: res.error });
    });
  }

  return (
    <div className="flex flex-col items-end gap-2">
      <Button type="button" variant={props.variant ?? "primary"} onClick={run} disabled={pending || !!props.disabledReason} title={props.disabledReason}>
        {pending ? props.pendingLabel : props.label}
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
