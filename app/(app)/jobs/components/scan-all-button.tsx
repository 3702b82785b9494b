"use client";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { Button } from "@/app/_components/ui/button";
import { Alert } from "@/app/_components/ui/alert";
import { startScanAction } from "../actions";

export function ScanAllButton() {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="flex flex-col items-end gap-2">
      <Button
        type="button"
        disabled={pending}
        onClick={() =>
          startTransition(async () => {
            setError(null);
            const res = await startScanAction({ all: true });
            if (res.ok && res.data) router.push(`/jobs/${res.data.jobId}`);
            else if (!res.ok) setError(res.error);
          })
        }
      >
        {pending ? "Starting…" : "Scan all hosts"}
      </Button>
      {error && <Alert>{error}</Alert>}
    </div>
  );
}
