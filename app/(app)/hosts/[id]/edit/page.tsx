import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { z } from "zod";
import { requirePageUser } from "@/lib/auth/guard";
import { can } from "@/lib/auth/roles";
import { credentialChoices, getHost } from "@/lib/inventory/hosts";
import { Breadcrumb } from "@/app/_components/ui/breadcrumb";
import { HostForm } from "../../components/host-form";
import { DeleteHostButton } from "../../components/delete-host-button";

export const metadata: Metadata = { title: "Edit host" };

export default async function EditHostPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageUser("hosts.write");
  const { id } = await params;
  if (!z.uuid().safeParse(id).success) notFound();
  const [host, credentials] = await Promise.all([getHost(id), credentialChoices()]);
  // A deleted (retired) host is history: its page shows it, nothing edits it.
  if (!host || host.retiredAt) notFound();
  return (
    <div className="flex flex-col gap-4">
      <Breadcrumb
        trail={[
          { href: "/hosts", label: "Hosts" },
          { href: `/hosts/${host.id}`, label: host.name },
        ]}
        current="Edit"
      />
      <div className="flex items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold">Edit {host.name}</h1>
        <DeleteHostButton id={host.id} name={host.name} />
      </div>
      <div className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <HostForm
          credentials={credentials}
          canAttachCredential={can(user.role, "credentials.manage")}
          initial={{
            id: host.id,
            name: host.name,
            address: host.address,
            platform: host.platform,
            roles: host.roles,
            tags: host.tags,
            group: host.group ?? "",
            owner: host.owner ?? "",
            transport: host.transport,
            port: host.port ? String(host.port) : "",
            credentialName: host.credential?.name ?? "",
            endpoints: host.endpoints.map((e) => `${e.port}/${e.service}`).join(";"),
          }}
        />
      </div>
    </div>
  );
}
