import type { Metadata } from "next";
import { requirePageUser } from "@/lib/auth/guard";
import { Card } from "@/app/_components/ui/card";
import { ChangePasswordForm } from "./components/change-password-form";

export const metadata: Metadata = { title: "Your account" };

export default async function AccountPage() {
  const user = await requirePageUser("account.password");
  return (
    <div className="flex max-w-xl flex-col gap-4">
      <h1 className="text-2xl font-semibold">Your account</h1>
      <p className="text-sm text-slate-600">Signed in as <span className="font-medium">{user.email}</span> ({user.role}).</p>
      <Card title="Change your password">
        <p className="mb-3 text-sm text-slate-600">Your other sessions (other browsers and devices) are signed out; this one stays signed in.</p>
        <ChangePasswordForm />
      </Card>
    </div>
  );
}
