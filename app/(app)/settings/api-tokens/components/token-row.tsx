"use client";
import { useState, useTransition } from "react";
import { Button } from "@/app/_components/ui/button";
import { formatUtc } from "@/lib/time";
import { revokeApiTokenAction } from "../actions";

type Row = { id: string; name: string; prefix: string; scope: string; ownerEmail: string; actsAs: string | null; createdAt: string; expiresAt: string | null; lastUsedAt: string | null; revokedAt: string | null };

export function TokenRow({ token: t, showOwner }: { token: Row; showOwner: boolean }) {
  const [pending, startTransition] = useTransition();
  const [message, setMessage] = useState<string | null>(null);

  function onRevoke() {
    if (!window.confirm(`Revoke token ${t.name} (tfl_${t.prefix}_…)? Scripts using it are refused from now on.`)) return;
    startTransition(async () => {
      const res = await revokeApiTokenAction({ tokenId: t.id });
      setMessage(res.ok ? "Revoked" : res.error);
    });
  }

  const state = t.revokedAt ? `revoked ${formatUtc(t.revokedAt, "")}` : t.actsAs ?? "not usable (expired or owner disabled)";
  return (
    <tr className="border-t border-slate-100 align-top" data-testid={`token-row-${t.name}`}>
      <td className="py-2">
        <div className="font-medium">{t.name}</div>
        <div className="font-mono text-xs text-slate-500">tfl_{t.prefix}_…</div>
      </td>
      {showOwner && <td className="text-slate-700">{t.ownerEmail}</td>}
      <td>{t.scope}</td>
      <td data-testid="token-state">{state}</td>
      <td className="text-slate-600">{formatUtc(t.createdAt, "")}</td>
      <td className="text-slate-600">{formatUtc(t.expiresAt, "never")}</td>
      <td className="text-slate-600">{formatUtc(t.lastUsedAt, "never used")}</td>
      <td className="py-2 text-right">
        {!t.revokedAt && (
          <Button variant="danger" disabled={pending} onClick={onRevoke} aria-label={`Revoke ${t.name}`}>Revoke</Button>
        )}
        {message && <p role="status" className="mt-1 text-xs text-slate-600">{message}</p>}
      </td>
    </tr>
  );
}
