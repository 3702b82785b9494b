"use client";
// Keeps the rollout page current while something happens on its own (the plan being made, waves
// running, a rollback): the server page is re-rendered every 2 s, and nothing is polled once the
// rollout waits for a person or has finished.
import { useRouter } from "next/navigation";
import { useEffect, useRef, useTransition } from "react";

const EVERY_MS = 2_000;

export function RolloutLive({ active, idleText }: { active: boolean; idleText: string }) {
  const router = useRouter();
  const [refreshing, startTransition] = useTransition();
  const busy = useRef(false);

  useEffect(() => {
    busy.current = refreshing;
  }, [refreshing]);

  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => {
      // A slow render is not stacked with the next one; a hidden tab does not poll at all.
      if (busy.current || document.visibilityState === "hidden") return;
      startTransition(() => router.refresh());
    }, EVERY_MS);
    return () => clearInterval(timer);
  }, [active, router]);

  return (
    <span className="text-xs text-slate-600" data-testid="rollout-live">
      {active ? (
        <>
          <span className="mr-1 inline-block h-2 w-2 animate-pulse rounded-full bg-blue-500" aria-hidden />
          Live: updates every 2 s
        </>
      ) : (
        idleText
      )}
    </span>
  );
}
