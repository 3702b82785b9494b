"use client";
import { useRef, useState, useTransition } from "react";
import { Button } from "@/app/_components/ui/button";
import { SelectField, TextField } from "@/app/_components/ui/field";
import { Alert } from "@/app/_components/ui/alert";
import { mintApiTokenAction } from "../actions";

const SCOPE_LABELS: Record<string, string> = { read: "read (viewer: lists, jobs, exports)", operate: "operate (operator: scans, audits, hosts, rollouts)", admin: "admin (approve rollouts)" };

export function MintTokenForm({ scopes }: { scopes: string[] }) {
  const formRef = useRef<HTMLFormElement>(null);
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<{ text: string; fieldErrors?: Record<string, string[]> } | null>(null);
  const [minted, setMinted] = useState<{ name: string; token: string } | null>(null);

  function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const input = { name: String(f.get("name") ?? ""), scope: String(f.get("scope") ?? "") as "read", expiresInDays: String(f.get("expiresInDays") ?? "90") };
    startTransition(async () => {
      const res = await mintApiTokenAction(input);
      if (res.ok && res.data) {
        setError(null);
        setMinted({ name: input.name, token: res.data.token });
        formRef.current?.reset();
      } else if (!res.ok) setError({ text: res.error, fieldErrors: res.fieldErrors });
    });
  }

  return (
    <div className="flex flex-col gap-3">
      <form ref={formRef} onSubmit={onSubmit} className="grid gap-3 md:grid-cols-3" aria-label="Create a token">
        <TextField label="Name" id="token-name" name="name" required maxLength={100} placeholder="nightly export" error={error?.fieldErrors?.name?.[0]} />
        <SelectField label="Scope" id="token-scope" name="scope" defaultValue={scopes[0]}>
          {scopes.map((s) => (
            <option key={s} value={s}>{SCOPE_LABELS[s] ?? s}</option>
          ))}
        </SelectField>
        <SelectField label="Expires" id="token-expiry" name="expiresInDays" defaultValue="90">
          <option value="7">in 7 days</option>
          <option value="30">in 30 days</option>
          <option value="90">in 90 days</option>
          <option value="365">in a year</option>
          <option value="never">never (until revoked)</option>
        </SelectField>
        <div className="flex items-center gap-3 md:col-span-3">
          <Button type="submit" disabled={pending}>{pending ? "Creating…" : "Create token"}</Button>
          {error && <Alert kind="error">{error.text}</Alert>}
        </div>
      </form>
      {minted && (
        <div role="status" className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="minted-token">
          <p className="font-medium text-amber-900">Copy the token for {minted.name} now: it is not stored and will not be shown again.</p>
          <div className="mt-2 flex items-center gap-2">
            <label htmlFor="minted-token-value" className="sr-only">New token</label>
            <input id="minted-token-value" readOnly value={minted.token} className="w-full rounded border border-amber-300 bg-white px-2 py-1 font-mono text-xs" onFocus={(e) => e.currentTarget.select()} />
            <Button variant="secondary" onClick={() => void navigator.clipboard?.writeText(minted.token)}>Copy</Button>
            <Button variant="secondary" onClick={() => setMinted(null)}>Done</Button>
          </div>
        </div>
      )}
    </div>
  );
}
