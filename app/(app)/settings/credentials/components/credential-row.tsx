"use client";
import { useState, useTransition } from "react";
import { Button } from "@/app/_components/ui/button";
import { formatUtc } from "@/lib/time";
import { deleteCredentialAction, replaceCredentialSecretAction } from "../actions";
import { ScopeEditor, scopeSummary, type ScopeValue } from "./scope-editor";

type Row = { id: string; name: string; kind: string; username: string; hostCount: number; updatedAt: string; scope: ScopeValue };

export function CredentialRow({ credential: c }: { credential: Row }) {
  const [pending, startTransition] = useTransition();
  const [replacing, setReplacing] = useState(false);
  const [scoping, setScoping] = useState(false);
  const unscoped = c.scope.hosts.length + c.scope.groups.length + c.scope.cidrs.length === 0;
  const [message, setMessage] = useState<string | null>(null);

  function onReplace(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const secret = String(new FormData(e.currentTarget).get("secret") ?? "");
    startTransition(async () => {
      const res = await replaceCredentialSecretAction({ credentialId: c.id, secret });
      setMessage(res.ok ? "Secret replaced" : res.error);
      if (res.ok) setReplacing(false);
    });
  }

  function onDelete() {
    const warn = c.hostCount ? `${c.hostCount} host(s) use it and will have no credential. ` : "";
    if (!window.confirm(`Delete credential ${c.name}? ${warn}This cannot be undone.`)) return;
    startTransition(async () => {
      const res = await deleteCredentialAction({ credentialId: c.id });
      setMessage(res.ok ? "Deleted" : res.error);
    });
  }

  return (
    <tr className="border-t border-slate-100 align-top" data-testid={`credential-row-${c.name}`}>
      <td className="py-2 font-medium">{c.name}</td>
      <td>{c.kind}</td>
      <td className="font-mono text-xs">{c.username}</td>
      <td>{c.hostCount}</td>
      <td className={`max-w-xs break-words px-3 text-xs ${unscoped ? "font-medium text-amber-800" : ""}`} data-testid="credential-scope">
        {scopeSummary(c.scope)}
      </td>
      <td className="text-slate-600">{formatUtc(c.updatedAt)}</td>
      <td className="py-2 text-right">
        <div className="flex justify-end gap-2">
          <Button variant="secondary" disabled={pending} onClick={() => setScoping((v) => !v)} aria-expanded={scoping}>Edit scope</Button>
          <Button variant="secondary" disabled={pending} onClick={() => setReplacing((v) => !v)} aria-expanded={replacing}>Replace secret</Button>
          <Button variant="danger" disabled={pending} onClick={onDelete}>Delete</Button>
        </div>
        {scoping && (
          <ScopeEditor
            credentialId={c.id}
            name={c.name}
            scope={c.scope}
            onDone={() => {
              setScoping(false);
              setMessage("Scope saved");
            }}
          />
        )}
        {replacing && (
          <form onSubmit={onReplace} className="mt-2 flex justify-end gap-2" aria-label={`Replace secret of ${c.name}`}>
            <label className="sr-only" htmlFor={`replace-${c.id}`}>New secret</label>
            {c.kind === "ssh_key" ? (
              <textarea id={`replace-${c.id}`} name="secret" rows={3} required className="w-80 rounded border border-slate-300 p-1 font-mono text-xs" />
            ) : (
              <input id={`replace-${c.id}`} name="secret" type="password" required autoComplete="new-password" className="rounded border border-slate-300 px-2 py-1 text-sm" />
            )}
            <Button type="submit" disabled={pending}>Save</Button>
          </form>
        )}
        {message && <p role="status" className="mt-1 text-xs text-slate-600">{message}</p>}
      </td>
    </tr>
  );
}
