import Link from "next/link";
import { requirePageUser } from "@/lib/auth/guard";
import { can } from "@/lib/auth/roles";
import { getOverview } from "@/lib/dashboard/overview";
import { Card, EmptyState } from "@/app/_components/ui/card";
import { Alert } from "@/app/_components/ui/alert";
import { StatusDonut } from "@/app/_components/charts/status-donut";
import { TrendChart } from "@/app/_components/charts/trend-chart";
import { StatusNumbers } from "./components/status-numbers";
import { HostRankList } from "./components/host-rank-list";
import { GroupTable } from "./components/group-table";
import { LoadDemoButton } from "./components/load-demo-button";
import { number } from "./components/format";
import { formatUtc } from "@/lib/time";

export const dynamic = "force-dynamic";

export default async function OverviewPage({ searchParams }: { searchParams: Promise<{ demo?: string }> }) {
  const user = await requirePageUser("read");
  const { demo } = await searchParams;
  const now = new Date();
  const overview = await getOverview({ now });
  const { counts, total } = overview;

  if (total === 0) {
    return (
      <div className="flex flex-col gap-4">
        <h1 className="text-2xl font-semibold">Overview</h1>
        <EmptyState title="No hosts yet: import a CSV or add one">
          <p>Then scan them to see which servers still accept TLS 1.0/1.1 and which cannot negotiate TLS 1.2.</p>
          {can(user.role, "hosts.write") ? (
            <div className="mt-4 flex flex-col items-center gap-3">
              <div className="flex gap-3">
                <Link href="/hosts/new" className="rounded-md bg-brand-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-brand-700">Add a host</Link>
                <Link href="/hosts/import" className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100">Import a CSV</Link>
              </div>
              <p className="text-xs text-slate-600">Just looking? Fill the inventory with example hosts:</p>
              <LoadDemoButton />
            </div>
          ) : (
            <p className="mt-2">Ask an operator or admin to add hosts.</p>
          )}
        </EmptyState>
      </div>
    );
  }

  const failing = counts.noncompliant + counts.at_risk + counts.mismatch;
  // Unknown, unreachable and error hosts say nothing either way (docs/architecture.md "The probe's verdict": never counted as compliant or not).
  const undecided = counts.unknown + counts.unreachable + counts.error;
  const judged = total - undecided;
  return (
    <div className="flex flex-col gap-6">
      <div>
        <h1 className="text-2xl font-semibold">Overview</h1>
        <p className="mt-1 text-slate-700" data-testid="overview-answer">
          {judged === 0 ? (
            <>None of the {number(total)} hosts has a conclusive scan yet: scan them to see which still accept TLS 1.0/1.1 and which cannot negotiate TLS 1.2.</>
          ) : failing === 0 ? (
            <>
              No scanned host accepts TLS 1.0/1.1 or lacks TLS 1.2{undecided > 0 && <>; {number(undecided)} of {number(total)} could not be judged yet (never scanned, unreachable or inconclusive)</>}.
            </>
          ) : (
            <>
              <strong>{number(counts.noncompliant)}</strong> of {number(total)} hosts still accept TLS 1.0/1.1,{" "}
              <strong>{number(counts.at_risk)}</strong> cannot negotiate TLS 1.2 (mail flow with Microsoft 365 fails)
              {counts.mismatch > 0 && <>, <strong>{number(counts.mismatch)}</strong> disagree between config and wire</>}
              {undecided > 0 && <>; {number(undecided)} could not be judged yet</>}.
            </>
          )}
        </p>
      </div>

      {(demo === "lab" || demo === "example") && (
        <Alert kind="success">
          Loaded {number(total)} {demo} hosts.{" "}
          {demo === "lab"
            ? "They are the lab's real Postfix, nginx and Dovecot servers: scan them (Hosts, select all, Scan) to see what each one negotiates, and run a config audit to read their configuration."
            : "Their addresses (198.18.200.0/24) answer nothing, so a scan shows how refused and unreachable targets look; start the lab (npm run lab -- up) for hosts that answer."}
        </Alert>
      )}

      <div className="flex flex-col gap-4 lg:flex-row lg:items-stretch">
        <Card className="flex items-center justify-center lg:w-64">
          <StatusDonut counts={counts} />
        </Card>
        <div className="flex-1">
          <StatusNumbers counts={counts} />
        </div>
      </div>

      <div className="grid gap-4 xl:grid-cols-2">
        <Card title={`Mail flow at risk (${number(counts.at_risk)})`} actions={counts.at_risk > overview.atRisk.length ? <Link href="/hosts?status=at_risk" className="text-sm text-brand-700 hover:underline">All {number(counts.at_risk)}</Link> : undefined}>
          <p className="mb-2 text-xs text-slate-600">No TLS 1.2 (or no STARTTLS) on an endpoint: Microsoft 365 refuses TLS 1.0/1.1, so mail to and from these hosts fails.</p>
          <HostRankList rows={overview.atRisk} showSince now={now} empty="No host is at risk: every scanned endpoint negotiates TLS 1.2 or better." />
        </Card>
        <Card title="Out of compliance the longest" actions={failing > overview.longestFailing.length ? <Link href="/hosts?status=noncompliant,at_risk,mismatch&sort=firstFailingAt" className="text-sm text-brand-700 hover:underline">All {number(failing)}</Link> : undefined}>
          <HostRankList rows={overview.longestFailing} showSince now={now} empty="No host is out of compliance." />
        </Card>
        {counts.excepted > 0 && (
          <Card title={`Excepted (${number(counts.excepted)})`} actions={<Link href="/exceptions?state=approved" className="text-sm text-brand-700 hover:underline">Exceptions</Link>}>
            <p className="mb-2 text-xs text-slate-600">Findings accepted until an expiry, with a justification an admin approved. Each host returns to its real status when its exception ends.</p>
            <HostRankList rows={overview.excepted} now={now} empty="No host is excepted." />
          </Card>
        )}
      </div>

      <div className="grid items-start gap-4 xl:grid-cols-5">
        <Card title="Non-compliance by group" className="xl:col-span-2">
          <GroupTable groups={overview.byGroup.groups} groupCount={overview.byGroup.groupCount} />
          {overview.byGroup.asOf && (
            <p className="mt-2 text-xs text-slate-600" data-testid="groups-as-of">
              As of {formatUtc(overview.byGroup.asOf)}: with {number(total)} hosts this table is recomputed at most every 30 seconds.
            </p>
          )}
        </Card>
        <Card title="Compliance trend (hosts per status at the end of each UTC day)" className="xl:col-span-3">
          {overview.trend.length > 0 ? (
            <>
              <TrendChart points={overview.trend.map((d) => ({ day: d.day, counts: d.counts }))} />
              {overview.trend.length < 3 && <p className="mt-2 text-xs text-slate-600">The trend fills in one day at a time from the status history.</p>}
            </>
          ) : (
            <p className="text-sm text-slate-600">No history yet.</p>
          )}
        </Card>
      </div>
    </div>
  );
}
