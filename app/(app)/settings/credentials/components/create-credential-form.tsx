"use client";
import { useState } from "react";
import { Button } from "@/app/_components/ui/button";
import { SelectField, TextField } from "@/app/_components/ui/field";
import { Alert } from "@/app/_components/ui/alert";
import { useActionForm } from "@/app/_components/use-action-form";
import { createCredentialAction } from "../actions";

const KIND_LABELS = { ssh_key: "SSH private key", ssh_password: "SSH password", winrm_ntlm: "WinRM (NTLM)", winrm_basic: "WinRM (Basic over HTTPS)" } as const;

export function CreateCredentialForm() {
  const [kind, setKind] = useState<keyof typeof KIND_LABELS>("ssh_key");
  const form = useActionForm({
    read: (f) => ({ name: String(f.get("name") ?? ""), kind, username: String(f.get("username") ?? ""), secret: String(f.get("secret") ?? "") }),
    action: createCredentialAction,
    done: (input) => `Saved ${input.name}`,
  });

  return (
    <form onSubmit={form.onSubmit} className="grid gap-3 md:grid-cols-3" aria-label="Add a credential">
      <TextField label="Name" id="cred-name" name="name" required error={form.fieldError("name")} />
      <SelectField label="Kind" id="cred-kind" name="kind" value={kind} onChange={(e) => setKind(e.target.value as keyof typeof KIND_LABELS)}>
        {Object.entries(KIND_LABELS).map(([v, l]) => (
          <option key={v} value={v}>{l}</option>
        ))}
      </SelectField>
      <TextField label="Username" id="cred-username" name="username" required autoComplete="off" error={form.fieldError("username")} />
      <div className="flex flex-col gap-1 md:col-span-3">
        <label htmlFor="cred-secret" className="text-sm font-medium text-slate-700">{kind === "ssh_key" ? "Private key (OpenSSH or PEM, unencrypted)" : "Password"}</label>
        {kind === "ssh_key" ? (
          <textarea id="cred-secret" name="secret" rows={5} required autoComplete="off" spellCheck={false} className="rounded-md border border-slate-300 px-3 py-1.5 font-mono text-xs" />
        ) : (
          <input id="cred-secret" name="secret" type="password" required autoComplete="new-password" className="rounded-md border border-slate-300 px-3 py-1.5 text-sm" />
        )}
        {form.fieldError("secret") && <p className="text-xs text-red-700">{form.fieldError("secret")}</p>}
      </div>
      <div className="md:col-span-3 flex items-center gap-3">
        <Button type="submit" disabled={form.pending}>{form.pending ? "Saving…" : "Save credential"}</Button>
        {form.result && <Alert kind={form.result.ok ? "success" : "error"}>{form.result.text}</Alert>}
      </div>
    </form>
  );
}
