"use client";
import { useState, useTransition } from "react";
import { useRouter } from "next/navigation";
import { Button } from "@/app/_components/ui/button";
import { Alert } from "@/app/_components/ui/alert";
import { approveExceptionAction, rejectExceptionAction, revokeExceptionAction } from "../actions";

type Result = { ok: true; message?: string } | { ok: false; error: string };

/**
 * Admin only (the server refuses anyone else, and refuses the requester's own approval):
 * approve or reject a pending exception, revoke one in force. `ownRequest` only explains why the
 * buttons are off; the server decides.
 */
export function ExceptionDecisionButtons({ id, state, ownRequest }: { id: string; state: "pending" | "approved"; ownRequest: boolean }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const run = (fn: () => Promise<Result>) =>
    startTransition(async () => {
      const res = await fn();
      setResult(res.ok ? { ok: true, text: res.message ?? "Done" } : { ok: false, text: res.error });
      if (res.ok) router.refresh();
    });
  const ask = (what: string) => window.prompt(`${what}: a note for the audit trail (optional)`);

  return (
    <div className="flex flex-col gap-1">
      <div className="flex flex-wrap gap-2">
        {state === "pending" && (
          <>
            <Button type="button" onClick={() => run(() => approveExceptionAction({ id }))} disabled={pending || ownRequest} title={ownRequest ? "You requested it: another admin must approve it" : undefined}>
              Approve
            </Button>
            <Button
              type="button"
              variant="secondary"
              disabled={pending || ownRequest}
              onClick={() => {
                const note = ask("Reject");
                if (note !== null) run(() => rejectExceptionAction({ id, note }));
              }}
            >
              Reject
            </Button>
          </>
        )}
        <Button
          type="button"
          variant="secondary"
          disabled={pending}
          onClick={() => {
            const note = ask("Revoke");
            if (note !== null) run(() => revokeExceptionAction({ id, note }));
          }}
        >
          Revoke
        </Button>
      </div>
      {ownRequest && state === "pending" && <p className="text-xs text-slate-600">You requested this exception: another admin must approve or reject it.</p>}
      {result && <Alert kind={result.ok ? "success" : "error"}>{result.text}</Alert>}
    </div>
  );
}
