"use client";
import { useRef, useState, useTransition } from "react";
import { Button } from "@/app/_components/ui/button";
import { SelectField, TextField } from "@/app/_components/ui/field";
import { Alert } from "@/app/_components/ui/alert";
import { createCredentialAction } from "../actions";

const KIND_LABELS = { ssh_key: "SSH private key", ssh_password: "SSH password", winrm_ntlm: "WinRM (NTLM)", winrm_basic: "WinRM (Basic over HTTPS)" } as const;

export function CreateCredentialForm() {
  const formRef = useRef<HTMLFormElement>(null);
  const [kind, setKind] = useState<keyof typeof KIND_LABELS>("ssh_key");
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string; fieldErrors?: Record<string, string[]> } | null>(null);

  function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const input = { name: String(f.get("name") ?? ""), kind, username: String(f.get("username") ?? ""), secret: String(f.get("secret") ?? "") };
    startTransition(async () => {
      const res = await createCredentialAction(input);
      if (res.ok) {
        setResult({ ok: true, text: `Saved ${input.name}` });
        formRef.current?.reset();
      } else setResult({ ok: false, text: res.error, fieldErrors: res.fieldErrors });
    });
  }

  return (
    <form ref={formRef} onSubmit={onSubmit} className="grid gap-3 md:grid-cols-3" aria-label="Add a credential">
      <TextField label="Name" id="cred-name" name="name" required error={result?.fieldErrors?.name?.[0]} />
      <SelectField label="Kind" id="cred-kind" name="kind" value={kind} onChange={(e) => setKind(e.target.value as keyof typeof KIND_LABELS)}>
        {Object.entries(KIND_LABELS).map(([v, l]) => (
          <option key={v} value={v}>{l}</option>
        ))}
      </SelectField>
      <TextField label="Username" id="cred-username" name="username" required autoComplete="off" error={result?.fieldErrors?.username?.[0]} />
      <div className="flex flex-col gap-1 md:col-span-3">
        <label htmlFor="cred-secret" className="text-sm font-medium text-slate-700">{kind === "ssh_key" ? "Private key (OpenSSH or PEM, unencrypted)" : "Password"}</label>
        {kind === "ssh_key" ? (
          <textarea id="cred-secret" name="secret" rows={5} required autoComplete="off" spellCheck={false} className="rounded-md border border-slate-300 px-3 py-1.5 font-mono text-xs" />
        ) : (
          <input id="cred-secret" name="secret" type="password" required autoComplete="new-password" className="rounded-md border border-slate-300 px-3 py-1.5 text-sm" />
        )}
        {result?.fieldErrors?.secret?.[0] && <p className="text-xs text-red-700">{result.fieldErrors.secret[0]}</p>}
      </div>
      <div className="md:col-span-3 flex items-center gap-3">
        <Button type="submit" disabled={pending}>{pending ? "Saving…" : "Save credential"}</Button>
        {result && <Alert kind={result.ok ? "success" : "error"}>{result.text}</Alert>}
      </div>
    </form>
  );
}
