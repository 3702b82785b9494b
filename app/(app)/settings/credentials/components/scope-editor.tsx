"use client";
import { useState, useTransition } from "react";
import { Button } from "@/app/_components/ui/button";
import { Alert } from "@/app/_components/ui/alert";
import { setCredentialScopeAction } from "../actions";

export type ScopeValue = { hosts: string[]; groups: string[]; cidrs: string[] };

const FIELDS = [
  { key: "hosts", label: "Host names", hint: "One per line, exactly as in the inventory" },
  { key: "groups", label: "Groups", hint: "One per line: every host in the group" },
  { key: "cidrs", label: "Address ranges", hint: "One CIDR per line, e.g. 198.18.0.0/24: hosts whose address is an IP in the range" },
] as const;

/** What a credential's scope allows, in one line; the empty scope says what to do. */
export function scopeSummary(s: ScopeValue): string {
  const parts = [s.hosts.length && `${s.hosts.length} host${s.hosts.length === 1 ? "" : "s"}`, s.groups.length && `groups ${s.groups.join(", ")}`, s.cidrs.length && s.cidrs.join(", ")].filter(Boolean);
  return parts.length ? parts.join("; ") : "Usable nowhere: set a scope";
}

/** Admin only (the server refuses anyone else): the hosts, groups and ranges a credential may be used for. */
export function ScopeEditor({ credentialId, name, scope, onDone }: { credentialId: string; name: string; scope: ScopeValue; onDone: () => void }) {
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<{ text: string; fields: Record<string, string[]> } | null>(null);

  function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const lines = (k: string) => String(f.get(k) ?? "").split("\n").map((l) => l.trim()).filter(Boolean);
    startTransition(async () => {
      const res = await setCredentialScopeAction({ credentialId, hosts: lines("hosts"), groups: lines("groups"), cidrs: lines("cidrs") });
      if (!res.ok) {
        setError({ text: res.error, fields: res.fieldErrors ?? {} });
        return;
      }
      setError(null);
      onDone();
    });
  }

  return (
    <form onSubmit={onSubmit} aria-label={`Scope of ${name}`} className="mt-2 flex flex-col gap-2 text-left" noValidate>
      {error && <Alert kind="error">{error.text}</Alert>}
      <p className="text-xs text-slate-600">The credential is used only for hosts listed here by name, in a listed group, or with an address in a listed range. Leave everything empty to use it nowhere.</p>
      {FIELDS.map((fd) => {
        const id = `scope-${fd.key}-${credentialId}`;
        const fieldError = error?.fields[fd.key]?.join("; ");
        return (
          <div key={fd.key} className="flex flex-col gap-1">
            <label htmlFor={id} className="text-xs font-medium">
              {fd.label}
            </label>
            <textarea
              id={id}
              name={fd.key}
              rows={3}
              defaultValue={scope[fd.key].join("\n")}
              aria-describedby={`${id}-hint`}
              aria-invalid={fieldError ? true : undefined}
              className={`w-96 rounded border p-1 font-mono text-xs ${fieldError ? "border-red-500" : "border-slate-300"}`}
            />
            <p id={`${id}-hint`} className={`text-xs ${fieldError ? "text-red-700" : "text-slate-600"}`}>
              {fieldError ?? fd.hint}
            </p>
          </div>
        );
      })}
      <div className="flex gap-2">
        <Button type="submit" disabled={pending}>
          {pending ? "Saving…" : "Save scope"}
        </Button>
        <Button type="button" variant="secondary" onClick={onDone} disabled={pending}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
