"use client";
import { useState, useTransition } from "react";
import { Button } from "@/app/_components/ui/button";
import { TextField } from "@/app/_components/ui/field";
import { Alert } from "@/app/_components/ui/alert";
import { resetPasswordAction } from "../actions";

export function ResetPasswordForm({ userId, email, onDone }: { userId: string; email: string; onDone: () => void }) {
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string; fieldError?: string } | null>(null);

  function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const newPassword = String(new FormData(form).get("newPassword") ?? "");
    startTransition(async () => {
      const res = await resetPasswordAction({ userId, newPassword });
      if (res.ok) {
        form.reset();
        const ended = res.data?.endedSessions ?? 0;
        setResult({ ok: true, text: `Password of ${email} reset; ${ended} session${ended === 1 ? "" : "s"} ended. Tell them the new password over a separate channel.` });
      } else setResult({ ok: false, text: res.error, fieldError: res.fieldErrors?.newPassword?.[0] });
    });
  }

  return (
    <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-3" aria-label={`Reset the password of ${email}`} noValidate>
      <TextField
        label={`New password for ${email} (12+ characters)`}
        id={`reset-password-${userId}`}
        name="newPassword"
        type="password"
        autoComplete="new-password"
        required
        autoFocus
        error={result?.fieldError}
        onKeyDown={(e) => e.key === "Escape" && onDone()}
      />
      <Button type="submit" disabled={pending}>{pending ? "Resetting…" : "Set new password"}</Button>
      <Button type="button" variant="ghost" onClick={onDone}>Cancel</Button>
      {result && (
        <div className="w-full">
          <Alert kind={result.ok ? "success" : "error"}>{result.text}</Alert>
        </div>
      )}
    </form>
  );
}
