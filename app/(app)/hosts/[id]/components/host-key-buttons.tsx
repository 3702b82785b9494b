"use client";
import { useState, useTransition } from "react";
import { useRouter } from "next/navigation";
import { Button } from "@/app/_components/ui/button";
import { Alert } from "@/app/_components/ui/alert";
import { confirmHostKeyAction, forgetHostKeyAction } from "../actions";

/** Admin only (the server refuses anyone else): pin the pending key, or forget the pinned one. */
export function HostKeyButtons({ hostId, pendingKey, hasPinned }: { hostId: string; pendingKey: string | null; hasPinned: boolean }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const run = (fn: () => Promise<{ ok: true; message?: string } | { ok: false; error: string }>) =>
    startTransition(async () => {
      const res = await fn();
      setResult(res.ok ? { ok: true, text: res.message ?? "Done" } : { ok: false, text: res.error });
      if (res.ok) router.refresh();
    });

  return (
    <div className="flex flex-col gap-2">
      <div className="flex flex-wrap gap-2">
        {pendingKey && (
          <Button type="button" onClick={() => run(() => confirmHostKeyAction({ hostId, key: pendingKey }))} disabled={pending}>
            {pending ? "Saving…" : "Confirm host key"}
          </Button>
        )}
        <Button
          type="button"
          variant="secondary"
          disabled={pending}
          onClick={() => {
            if (window.confirm(hasPinned ? "Forget the pinned key? The next contact will record whatever key the host presents." : "Discard the pending key?")) run(() => forgetHostKeyAction({ hostId }));
          }}
        >
          {hasPinned ? "Forget pinned key" : "Discard pending key"}
        </Button>
      </div>
      {result && <Alert kind={result.ok ? "success" : "error"}>{result.text}</Alert>}
    </div>
  );
}
