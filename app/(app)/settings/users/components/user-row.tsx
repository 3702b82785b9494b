"use client";
import { useState, useTransition } from "react";
import { Button } from "@/app/_components/ui/button";
import { changeRoleAction, disableUserAction, enableUserAction, forceSignOutAction } from "../actions";
import { ResetPasswordForm } from "./reset-password-form";

type Row = { id: string; email: string; role: string; disabled: boolean; lastLoginAt: string | null };

export function UserRow({ user, isSelf }: { user: Row; isSelf: boolean }) {
  const [pending, startTransition] = useTransition();
  const [message, setMessage] = useState<string | null>(null);
  const [resetting, setResetting] = useState(false);

  function run(action: () => Promise<{ ok: boolean; error?: string; message?: string }>) {
    startTransition(async () => {
      const res = await action();
      setMessage(res.ok ? (res.message ?? "Done") : (res.error ?? "Failed"));
    });
  }

  return (
    <>
    <tr className="border-t border-slate-100 align-middle" data-testid={`user-row-${user.email}`}>
      <td className="py-2 font-medium">{user.email}{isSelf && <span className="ml-1 text-xs text-slate-500">(you)</span>}</td>
      <td>
        <label className="sr-only" htmlFor={`role-${user.id}`}>Role of {user.email}</label>
        <select
          id={`role-${user.id}`}
          defaultValue={user.role}
          disabled={pending}
          onChange={(e) => run(() => changeRoleAction({ userId: user.id, role: e.target.value as "viewer" }))}
          className="rounded border border-slate-300 bg-white px-2 py-1 text-sm"
        >
          <option value="viewer">viewer</option>
          <option value="operator">operator</option>
          <option value="admin">admin</option>
        </select>
      </td>
      <td>{user.disabled ? <span className="text-red-700">disabled</span> : <span className="text-green-700">active</span>}</td>
      <td className="text-slate-600">{user.lastLoginAt ? new Date(user.lastLoginAt).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "never"}</td>
      <td className="flex flex-wrap justify-end gap-2 py-2">
        {!isSelf && (
          <Button variant="secondary" aria-expanded={resetting} aria-controls={`reset-${user.id}`} onClick={() => setResetting((v) => !v)}>
            Reset password…
          </Button>
        )}
        <Button variant="secondary" disabled={pending} onClick={() => run(() => forceSignOutAction({ userId: user.id }))}>Force sign-out</Button>
        {user.disabled ? (
          <Button variant="secondary" disabled={pending} onClick={() => run(() => enableUserAction({ userId: user.id }))}>Enable</Button>
        ) : (
          <Button variant="danger" disabled={pending || isSelf} onClick={() => run(() => disableUserAction({ userId: user.id }))}>Disable</Button>
        )}
        {message && <span role="status" className="w-full text-right text-xs text-slate-600">{message}</span>}
      </td>
    </tr>
    {resetting && (
      <tr id={`reset-${user.id}`} className="bg-slate-50">
        <td colSpan={5} className="px-2 py-3">
          <ResetPasswordForm userId={user.id} email={user.email} onDone={() => setResetting(false)} />
        </td>
      </tr>
    )}
    </>
  );
}
