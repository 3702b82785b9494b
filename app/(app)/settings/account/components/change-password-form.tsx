"use client";
import { Button } from "@/app/_components/ui/button";
import { TextField } from "@/app/_components/ui/field";
import { Alert } from "@/app/_components/ui/alert";
import { useActionForm } from "@/app/_components/use-action-form";
import { changeOwnPasswordAction } from "../actions";

export function ChangePasswordForm() {
  const form = useActionForm({
    read: (f) => ({ currentPassword: String(f.get("currentPassword") ?? ""), newPassword: String(f.get("newPassword") ?? ""), confirmPassword: String(f.get("confirmPassword") ?? "") }),
    action: changeOwnPasswordAction,
    done: (_input, data) => {
      const ended = data?.endedSessions ?? 0;
      return `Password changed. ${ended === 0 ? "You had no other sessions." : `${ended} other session${ended === 1 ? " was" : "s were"} signed out.`}`;
    },
  });

  return (
    <form onSubmit={form.onSubmit} className="flex flex-col gap-3" aria-label="Change your password" noValidate>
      <TextField label="Current password" id="current-password" name="currentPassword" type="password" autoComplete="current-password" required error={form.fieldError("currentPassword")} />
      <TextField label="New password (12+ characters)" id="new-password" name="newPassword" type="password" autoComplete="new-password" required minLength={12} error={form.fieldError("newPassword")} />
      <TextField label="New password again" id="confirm-password" name="confirmPassword" type="password" autoComplete="new-password" required error={form.fieldError("confirmPassword")} />
      <div>
        <Button type="submit" disabled={form.pending}>{form.pending ? "Changing…" : "Change password"}</Button>
      </div>
      {form.result && <Alert kind={form.result.ok ? "success" : "error"}>{form.result.text}</Alert>}
    </form>
  );
}
