"use client";
import { useRef, useState, useTransition } from "react";
import { Button } from "@/app/_components/ui/button";
import { SelectField, TextField } from "@/app/_components/ui/field";
import { Alert } from "@/app/_components/ui/alert";
import { createUserAction } from "../actions";

export function CreateUserForm() {
  const formRef = useRef<HTMLFormElement>(null);
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string; fieldErrors?: Record<string, string[]> } | null>(null);

  function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const input = { email: String(form.get("email")), name: String(form.get("name") ?? ""), role: String(form.get("role")) as "viewer", password: String(form.get("password")) };
    startTransition(async () => {
      const res = await createUserAction(input);
      if (res.ok) {
        setResult({ ok: true, text: `Created ${input.email}` });
        formRef.current?.reset();
      } else setResult({ ok: false, text: res.error, fieldErrors: res.fieldErrors });
    });
  }

  return (
    <form ref={formRef} onSubmit={onSubmit} className="grid gap-3 md:grid-cols-5 md:items-end" aria-label="Add a user">
      <TextField label="E-mail" id="new-email" name="email" type="email" required error={result?.fieldErrors?.email?.[0]} />
      <TextField label="Name" id="new-name" name="name" />
      <SelectField label="Role" id="new-role" name="role" defaultValue="viewer">
        <option value="viewer">viewer</option>
        <option value="operator">operator</option>
        <option value="admin">admin</option>
      </SelectField>
      <TextField label="Initial password (12+ characters)" id="new-password" name="password" type="password" autoComplete="new-password" required error={result?.fieldErrors?.password?.[0]} />
      <Button type="submit" disabled={pending}>{pending ? "Creating…" : "Create user"}</Button>
      {result && (
        <div className="md:col-span-5">
          <Alert kind={result.ok ? "success" : "error"}>{result.text}</Alert>
        </div>
      )}
    </form>
  );
}
