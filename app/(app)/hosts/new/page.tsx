import type { Metadata } from "next";
import Link from "next/link";
import { requirePageUser } from "@/lib/auth/guard";
import { can } from "@/lib/auth/roles";
import { credentialChoices } from "@/lib/inventory/hosts";
import { Breadcrumb } from "@/app/_components/ui/breadcrumb";
import { EMPTY_HOST, HostForm } from "../components/host-form";

export const metadata: Metadata = { title: "Add a host" };

export default async function NewHostPage() {
  const user = await requirePageUser("hosts.write");
  const credentials = await credentialChoices();
  return (
    <div className="flex flex-col gap-4">
      <Breadcrumb trail={[{ href: "/hosts", label: "Hosts" }]} current="Add" />
      <h1 className="text-2xl font-semibold">Add a host</h1>
      <p className="text-sm text-slate-600">
        Many hosts at once? <Link href="/hosts/import" className="text-brand-600 underline">Import a CSV</Link> instead.
      </p>
      <div className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <HostForm initial={EMPTY_HOST} credentials={credentials} canAttachCredential={can(user.role, "credentials.manage")} />
      </div>
    </div>
  );
}
