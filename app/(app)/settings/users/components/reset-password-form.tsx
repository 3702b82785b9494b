"use client";
import { Button } from "@/app/_components/ui/button";
import { TextField } from "@/app/_components/ui/field";
import { Alert } from "@/app/_components/ui/alert";
import { useActionForm } from "@/app/_components/use-action-form";
import { resetPasswordAction } from "../actions";

export function ResetPasswordForm({ userId, email, onDone }: { userId: string; email: string; onDone: () => void }) {
  const form = useActionForm({
    read: (f) => ({ userId, newPassword: String(f.get("newPassword") ?? "") }),
    action: resetPasswordAction,
    done: (_input, data) => {
      const ended = data?.endedSessions ?? 0;
      return `Password of ${email} reset; ${ended} session${ended === 1 ? "" : "s"} ended. Tell them the new password over a separate channel.`;
    },
  });

  return (
    <form onSubmit={form.onSubmit} className="flex flex-wrap items-end gap-3" aria-label={`Reset the password of ${email}`} noValidate>
      <TextField
        label={`New password for ${email} (12+ characters)`}
        id={`reset-password-${userId}`}
        name="newPassword"
        type="password"
        autoComplete="new-password"
        required
        autoFocus
        error={form.fieldError("newPassword")}
        onKeyDown={(e) => e.key === "Escape" && onDone()}
      />
      <Button type="submit" disabled={form.pending}>{form.pending ? "Resetting…" : "Set new password"}</Button>
      <Button type="button" variant="ghost" onClick={onDone}>Cancel</Button>
      {form.result && (
        <div className="w-full">
          <Alert kind={form.result.ok ? "success" : "error"}>{form.result.text}</Alert>
        </div>
      )}
    </form>
  );
}
