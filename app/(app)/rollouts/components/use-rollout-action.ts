"use client";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";

type Result = { ok: true; message?: string } | { ok: false; error: string };

/** Runs a rollout action, keeps its outcome for an Alert, and re-renders the page on success. */
export function useRolloutAction() {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const run = (fn: () => Promise<Result>, after?: () => void) =>
    startTransition(async () => {
      setMessage(null);
      const res = await fn();
      setMessage(res.ok ? { ok: true, text: res.message ?? "Done" } : { ok: false, text: res.error });
      after?.();
      if (res.ok) router.refresh();
    });
  return { pending, message, run };
}
