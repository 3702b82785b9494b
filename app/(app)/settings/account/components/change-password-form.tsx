"use client";
import { useRef, useState, useTransition } from "react";
import { Button } from "@/app/_components/ui/button";
import { TextField } from "@/app/_components/ui/field";
import { Alert } from "@/app/_components/ui/alert";
import { changeOwnPasswordAction } from "../actions";

export function ChangePasswordForm() {
  const formRef = useRef<HTMLFormElement>(null);
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string; fieldErrors?: Record<string, string[]> } | null>(null);

  function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const input = { currentPassword: String(form.get("currentPassword") ?? ""), newPassword: String(form.get("newPassword") ?? ""), confirmPassword: String(form.get("confirmPassword") ?? "") };
    startTransition(async () => {
      const res = await changeOwnPasswordAction(input);
      if (res.ok) {
        const ended = res.data?.endedSessions ?? 0;
        setResult({ ok: true, text: `Password changed. ${ended === 0 ? "You had no other sessions." : `${ended} other session${ended === 1 ? " was" : "s were"} signed out.`}` });
        formRef.current?.reset();
      } else setResult({ ok: false, text: res.error, fieldErrors: res.fieldErrors });
    });
  }

  return (
    <form ref={formRef} onSubmit={onSubmit} className="flex flex-col gap-3" aria-label="Change your password" noValidate>
      <TextField label="Current password" id="current-password" name="currentPassword" type="password" autoComplete="current-password" required error={result?.fieldErrors?.currentPassword?.[0]} />
      <TextField label="New password (12+ characters)" id="new-password" name="newPassword" type="password" autoComplete="new-password" required minLength={12} error={result?.fieldErrors?.newPassword?.[0]} />
      <TextField label="New password again" id="confirm-password" name="confirmPassword" type="password" autoComplete="new-password" required error={result?.fieldErrors?.confirmPassword?.[0]} />
      <div>
        <Button type="submit" disabled={pending}>{pending ? "Changing…" : "Change password"}</Button>
      </div>
      {result && <Alert kind={result.ok ? "success" : "error"}>{result.text}</Alert>}
    </form>
  );
}
