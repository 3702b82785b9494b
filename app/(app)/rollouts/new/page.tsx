import type { Metadata } from "next";
import Link from "next/link";
import { z } from "zod";
import { requirePageUser } from "@/lib/auth/guard";
import { HostListParams, isEmptyFilter, parseHostListParams, type HostFilterValue } from "@/lib/inventory/filter";
import { getHost, listHosts } from "@/lib/inventory/hosts";
import type { JobTargetValue } from "@/lib/jobs/create";
import { EmptyState } from "@/app/_components/ui/card";
import { hostsHref } from "../../hosts/components/links";
import { RequestRolloutForm } from "../components/request-form";
import { plural } from "../components/format";

export const metadata: Metadata = { title: "Request a rollout" };
export const dynamic = "force-dynamic";

type Search = Record<string, string | string[] | undefined>;

// ?hostIds=a,b (a selection), ?all=1 (every host), or the host list's filter parameters
// (?status=noncompliant&tag=mail): the same three targets the host list's Scan button sends.
const HostIdsParam = z
  .string()
  .transform((s) => [...new Set(s.split(",").map((x) => x.trim()).filter(Boolean))])
  .pipe(z.array(z.uuid()).min(1).max(500));

function targetFrom(sp: Search): { target: JobTargetValue; filter: HostFilterValue | null } | null {
  const one = (k: string) => (Array.isArray(sp[k]) ? sp[k].at(-1) : sp[k]);
  const ids = one("hostIds");
  if (ids) {
    const parsed = HostIdsParam.safeParse(ids);
    return parsed.success ? { target: { hostIds: parsed.data }, filter: null } : null;
  }
  if (one("all") === "1" || one("all") === "true") return { target: { all: true }, filter: {} };
  const params = parseHostListParams(sp);
  if (!params.success) return null;
  const { status, tag, group, platform, role, q } = params.data;
  const filter: HostFilterValue = { status, tag, group, platform, role, q };
  return isEmptyFilter(filter) ? null : { target: { filter }, filter };
}

function describeFilter(f: HostFilterValue): string {
  const parts = [
    f.status?.length ? `status ${f.status.join(" or ").replaceAll("_", " ")}` : null,
    f.tag ? `tag “${f.tag}”` : null,
    f.group ? `group “${f.group}”` : null,
    f.platform ? `platform ${f.platform}` : null,
    f.role ? `role ${f.role}` : null,
    f.q ? `name or address containing “${f.q}”` : null,
  ].filter(Boolean);
  return parts.join(", ");
}

export default async function NewRolloutPage({ searchParams }: { searchParams: Promise<Search> }) {
  await requirePageUser("remediation.request");
  const chosen = targetFrom(await searchParams);

  if (!chosen) {
    return (
      <div className="flex flex-col gap-4">
        <h1 className="text-2xl font-semibold">Request a rollout</h1>
        <EmptyState title="Choose hosts first: select hosts on the Hosts page and choose Remediate">
          <Link className="font-medium text-brand-600 underline" href="/hosts">Go to Hosts</Link>
        </EmptyState>
      </div>
    );
  }

  const { target, filter } = chosen;
  let label: string;
  let back: { href: string; text: string };
  let missing = false;
  if (target.hostIds?.length === 1) {
    const host = await getHost(target.hostIds[0]!);
    missing = !host;
    label = host ? `${host.name} (${host.address})` : "a host that no longer exists";
    back = host ? { href: `/hosts/${host.id}`, text: `← ${host.name}` } : { href: "/hosts", text: "← Hosts" };
  } else if (target.hostIds) {
    label = `${plural(target.hostIds.length, "selected host")}`;
    back = { href: "/hosts", text: "← Hosts" };
  } else {
    const { total } = await listHosts(HostListParams.parse({ ...filter, limit: 1 }), { exactCounts: true });
    missing = total === 0;
    label = target.all ? `every host (${plural(total, "host")})` : `${plural(total, "host")} matching ${describeFilter(filter!)}`;
    back = { href: hostsHref(filter ?? {}), text: "← Hosts" };
  }

  return (
    <div className="flex flex-col gap-4">
      <div>
        <Link className="text-sm text-brand-600 underline" href={back.href}>{back.text}</Link>
        <h1 className="mt-1 text-2xl font-semibold">Request a rollout</h1>
        <p className="text-sm text-slate-600">
          Choose what to change and how carefully. The plan shows, per host, the exact values that will change; an admin approves it before any host is touched.
        </p>
      </div>
      {missing ? (
        <EmptyState title="No host to remediate">
          {target.hostIds ? "The host was deleted." : "No host matches this filter any more."}{" "}
          <Link className="font-medium text-brand-600 underline" href="/hosts">Back to Hosts</Link>
        </EmptyState>
      ) : (
        <RequestRolloutForm target={target} targetLabel={label} />
      )}
    </div>
  );
}
