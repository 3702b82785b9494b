import type { Metadata } from "next";
import { requirePageUser } from "@/lib/auth/guard";
import { IMPORT_COLUMNS } from "@/lib/inventory/import-rows";
import { Breadcrumb } from "@/app/_components/ui/breadcrumb";
import { ImportWizard } from "../components/import-wizard";

export const metadata: Metadata = { title: "Import hosts" };

const COLUMN_HELP: Record<(typeof IMPORT_COLUMNS)[number], string> = {
  name: "required, unique; an existing name updates that host",
  address: "required; DNS name or IP address",
  platform: "windows, linux or other",
  roles: "exchange, postfix, nginx, dovecot, iis, other; separated by ;",
  tags: "separated by ;",
  group: "site or group",
  owner: "team or person",
  transport: "ssh, winrm or none",
  port: "SSH/WinRM port",
  credential: "name of a credential from Settings",
  endpoints: "e.g. 25/smtp;587/submission. Given: exactly these. Empty: the role defaults are added",
};

export default async function ImportHostsPage() {
  await requirePageUser("hosts.write");
  return (
    <div className="flex flex-col gap-4">
      <Breadcrumb trail={[{ href: "/hosts", label: "Hosts" }]} current="Import" />
      <h1 className="text-2xl font-semibold">Import hosts from CSV</h1>
      <details className="rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm">
        <summary className="cursor-pointer font-medium text-slate-800">Columns and format</summary>
        <div className="mt-3 flex flex-col gap-2 text-slate-700">
          <p>
            UTF-8 CSV (Excel: &ldquo;CSV UTF-8&rdquo;), first line the column names in any order and case. Only <code>name</code> and <code>address</code> are required; a column left out keeps the
            stored value when a host is updated. Up to 1,000,000 hosts (200 MiB) per file; a file with a problem in any row imports nothing, and every problem is listed with its line.{" "}
            <a href="/api/v1/hosts/import" download className="text-brand-600 underline">
              Download a template
            </a>
            .
          </p>
          <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1">
            {IMPORT_COLUMNS.map((c) => (
              <div key={c} className="contents">
                <dt className="font-mono text-xs leading-5">{c}</dt>
                <dd className="text-xs leading-5 text-slate-600">{COLUMN_HELP[c]}</dd>
              </div>
            ))}
          </dl>
        </div>
      </details>
      <ImportWizard />
    </div>
  );
}
