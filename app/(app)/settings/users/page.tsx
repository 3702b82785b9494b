import type { Metadata } from "next";
import { requirePageUser } from "@/lib/auth/guard";
import { listUsers } from "@/lib/users/service";
import { Card } from "@/app/_components/ui/card";
import { TableHead } from "@/app/_components/ui/table";
import { CreateUserForm } from "./components/create-user-form";
import { UserRow } from "./components/user-row";

export const metadata: Metadata = { title: "Users" };

export default async function UsersPage() {
  const me = await requirePageUser("users.manage");
  const users = await listUsers();
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Users</h1>
      <Card title="Add a user">
        <CreateUserForm />
      </Card>
      <Card title={`${users.length} user${users.length === 1 ? "" : "s"}`}>
        <table className="w-full text-left text-sm">
          <TableHead columns={["E-mail", "Role", "Status", "Last sign-in", { label: "Actions", hidden: true }]} />
          <tbody>
            {users.map((u) => (
              <UserRow
                key={u.id}
                user={{ id: u.id, email: u.email, role: u.role, disabled: Boolean(u.disabledAt), lastLoginAt: u.lastLoginAt?.toISOString() ?? null }}
                isSelf={u.id === me.id}
              />
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}
