"use client";
// "PDF evidence pack": asks for a pack of the given scope and opens its page, where progress shows.
import { useRouter } from "next/navigation";
import { useId, useState, useTransition } from "react";
import type { PackScopeValue } from "@/lib/evidence/packs";
import { Button } from "@/app/_components/ui/button";
import { requestEvidencePackAction } from "../actions";

const PERIODS = [
  { days: 7, label: "last 7 days" },
  { days: 30, label: "last 30 days" },
  { days: 90, label: "last 90 days" },
  { days: 365, label: "last 12 months" },
];

export function PackButton({ scope }: { scope: PackScopeValue }) {
  const router = useRouter();
  const periodId = useId();
  const [periodDays, setPeriodDays] = useState(30);
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  const request = () =>
    startTransition(async () => {
      setError(null);
      const res = await requestEvidencePackAction({ scope, periodDays });
      if (res.ok && res.data) router.push(`/evidence/${res.data.id}`);
      else if (!res.ok) setError(res.error);
    });
  return (
    <div className="flex flex-wrap items-center gap-2">
      <label htmlFor={periodId} className="sr-only">
        Period of the evidence pack
      </label>
      <select id={periodId} value={periodDays} onChange={(e) => setPeriodDays(Number(e.target.value))} className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm">
        {PERIODS.map((p) => (
          <option key={p.days} value={p.days}>
            {p.label}
          </option>
        ))}
      </select>
      <Button variant="secondary" onClick={request} disabled={pending}>
        {pending ? "Requesting…" : "PDF evidence pack"}
      </Button>
      {error && (
        <span role="alert" className="text-sm text-red-700">
          {error}
        </span>
      )}
    </div>
  );
}
