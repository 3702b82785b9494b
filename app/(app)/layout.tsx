import { requirePageUser } from "@/lib/auth/guard";
import { AppNav } from "./app-nav";
import { SignOutButton } from "./sign-out-button";

export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const user = await requirePageUser("read");
  return (
    <div className="flex min-h-screen">
      <aside className="flex w-56 shrink-0 flex-col border-r border-slate-200 bg-white">
        <div className="px-4 py-4 text-lg font-semibold tracking-tight">tlsfleet</div>
        <AppNav isAdmin={user.role === "admin"} />
        <div className="mt-auto border-t border-slate-200 p-4 text-xs text-slate-600">
          <div className="truncate font-medium text-slate-800" title={user.email}>{user.email}</div>
          <div className="mb-2">Role: <span data-testid="current-role">{user.role}</span></div>
          <SignOutButton />
        </div>
      </aside>
      <main className="min-w-0 flex-1 p-6">{children}</main>
    </div>
  );
}
