"use client";
import { Button } from "@/app/_components/ui/button";
import { SelectField, TextField } from "@/app/_components/ui/field";
import { Alert } from "@/app/_components/ui/alert";
import { useActionForm } from "@/app/_components/use-action-form";
import { createUserAction } from "../actions";

export function CreateUserForm() {
  const form = useActionForm({
    read: (f) => ({ email: String(f.get("email")), name: String(f.get("name") ?? ""), role: String(f.get("role")) as "viewer", password: String(f.get("password")) }),
    action: createUserAction,
    done: (input) => `Created ${input.email}`,
  });

  return (
    <form onSubmit={form.onSubmit} className="grid gap-3 md:grid-cols-5 md:items-end" aria-label="Add a user">
      <TextField label="E-mail" id="new-email" name="email" type="email" required error={form.fieldError("email")} />
      <TextField label="Name" id="new-name" name="name" />
      <SelectField label="Role" id="new-role" name="role" defaultValue="viewer">
        <option value="viewer">viewer</option>
        <option value="operator">operator</option>
        <option value="admin">admin</option>
      </SelectField>
      <TextField label="Initial password (12+ characters)" id="new-password" name="password" type="password" autoComplete="new-password" required error={form.fieldError("password")} />
      <Button type="submit" disabled={form.pending}>{form.pending ? "Creating…" : "Create user"}</Button>
      {form.result && (
        <div className="md:col-span-5">
          <Alert kind={form.result.ok ? "success" : "error"}>{form.result.text}</Alert>
        </div>
      )}
    </form>
  );
}
