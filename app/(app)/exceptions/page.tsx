import Link from "next/link";
import { z } from "zod";
import { requirePageUser } from "@/lib/auth/guard";
import { can } from "@/lib/auth/roles";
import { EXCEPTION_LIST_FILTERS, listExceptions } from "@/lib/exceptions/service";
import { Card, EmptyState } from "@/app/_components/ui/card";
import { ExceptionTable } from "./components/exception-table";

export const dynamic = "force-dynamic";

const LABELS: Record<(typeof EXCEPTION_LIST_FILTERS)[number], string> = { open: "Pending and in force", pending: "Pending approval", approved: "In force", all: "All, with history" };

export default async function ExceptionsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requirePageUser("read");
  const state = z.enum(EXCEPTION_LIST_FILTERS).catch("open").parse((await searchParams).state);
  const canDecide = can(user.role, "exceptions.approve");
  const [rows, pending] = await Promise.all([listExceptions(state), canDecide && state !== "pending" ? listExceptions("pending") : Promise.resolve(null)]);
  const waiting = (pending ?? rows.filter((x) => x.state === "pending")).filter((x) => x.requestedById !== user.id).length;

  return (
    <div className="flex flex-col gap-6">
      <div>
        <h1 className="text-2xl font-semibold">Exceptions</h1>
        <p className="text-sm text-slate-600">
          A host with an approved exception shows as excepted until its expiry, for the findings it names only. Operators request them on the host page; an admin who is not the requester approves.
        </p>
        {canDecide && <p className="mt-2 text-sm font-medium text-amber-900" data-testid="awaiting-you">{waiting === 0 ? "Nothing waits for your approval." : `${waiting} exception request(s) wait for your approval.`}</p>}
      </div>
      <nav aria-label="Exception filter" className="flex flex-wrap gap-2 text-sm">
        {EXCEPTION_LIST_FILTERS.map((f) => (
          <Link key={f} href={`/exceptions?state=${f}`} aria-current={f === state ? "page" : undefined} className={`rounded-md border px-3 py-1 ${f === state ? "border-brand-600 bg-slate-100 font-medium" : "border-slate-300 bg-white hover:bg-slate-100"}`}>
            {LABELS[f]}
          </Link>
        ))}
      </nav>
      <Card title={LABELS[state]}>
        {rows.length ? (
          <ExceptionTable rows={rows} canDecide={canDecide} viewerId={user.id} showHost />
        ) : (
          <EmptyState title="No exceptions here">Request one from a host&apos;s page when a finding must stay for a while (a justification and an expiry are required).</EmptyState>
        )}
      </Card>
    </div>
  );
}
