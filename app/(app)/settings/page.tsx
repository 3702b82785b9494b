import Link from "next/link";
import { requirePageUser } from "@/lib/auth/guard";
import { can } from "@/lib/auth/roles";
import { Card } from "@/app/_components/ui/card";

export default async function SettingsPage() {
  const user = await requirePageUser("read");
  const sections = [
    { href: "/settings/account", label: "Your account", description: "Change your password; your other sessions are signed out.", allowed: can(user.role, "account.password") },
    { href: "/settings/users", label: "Users", description: "Create users, change roles, reset passwords, disable accounts, force sign-out.", allowed: can(user.role, "users.manage") },
    { href: "/settings/credentials", label: "Credentials", description: "SSH keys and WinRM accounts for config audits and fixes, encrypted at rest.", allowed: can(user.role, "credentials.manage") },
    { href: "/settings/api-tokens", label: "API tokens", description: can(user.role, "tokens.manage") ? "Tokens for scripts: create, see when each was last used, revoke anyone's." : "Tokens for scripts, with at most your role: create, see when each was last used, revoke.", allowed: can(user.role, "tokens.own") },
    { href: "/settings/scans", label: "Scans", description: "Rescan schedule, drift webhook, and the target ranges scans may reach.", allowed: can(user.role, "settings.manage") },
  ];
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Settings</h1>
      <div className="grid gap-4 md:grid-cols-2">
        {sections.map((s) => (
          <Card key={s.href} title={s.label}>
            <p className="text-sm text-slate-600">{s.description}</p>
            {s.allowed ? (
              <Link className="mt-2 inline-block text-sm font-medium text-brand-600 underline" href={s.href}>Open {s.label}</Link>
            ) : (
              <p className="mt-2 text-xs text-slate-500">Admins only.</p>
            )}
          </Card>
        ))}
      </div>
    </div>
  );
}
