import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { z } from "zod";
import { requirePageUser } from "@/lib/auth/guard";
import { can } from "@/lib/auth/roles";
import { getRollout, type RolloutHostView, type RolloutView } from "@/lib/rollout/views";
import type { RolloutHostState } from "@/lib/rollout/rules";
import { describeWindow } from "@/lib/rollout/window";
import { Alert } from "@/app/_components/ui/alert";
import { Card } from "@/app/_components/ui/card";
import { DetailField } from "@/app/_components/ui/detail-field";
import { formatUtc } from "@/lib/time";
import { ApproveButton } from "../components/approve-button";
import { HostPlanDiff } from "../components/host-plan";
import { HostRollbackButton } from "../components/host-rollback-button";
import { RolloutControls, type ControlSet } from "../components/rollout-controls";
import { RolloutLive } from "../components/rollout-live";
import { isLiveRollout, RolloutHostStateBadge, RolloutStateBadge } from "../components/rollout-badges";
import { goalsLabel, plural, waveLabel } from "../components/format";
import { PackButton } from "../../evidence/components/pack-button";

export const metadata: Metadata = { title: "Rollout" };
export const dynamic = "force-dynamic";

const TERMINAL = ["cancelled", "succeeded", "failed"];
// Endpoints named inline in the summary; the rest one click deeper.
const ENDPOINTS_INLINE = 10;

const STATE_ORDER: RolloutHostState[] = ["verified", "pending_reboot", "failed", "rolled_back", "rolling_back", "applying", "applied", "rebooting", "rebooted", "verifying", "planned", "out_of_date", "not_started", "skipped"];

function canRollBack(h: RolloutHostView): h is RolloutHostView & { hostId: string } {
  return h.hasRollbackPoint && h.hostId !== null && h.state !== "rolled_back" && h.state !== "rolling_back";
}

function controlsFor(r: RolloutView): ControlSet {
  const rollbackAll = r.state === "running" ? 0 : r.hosts.filter(canRollBack).length;
  return {
    start: r.state === "approved",
    pause: r.state === "running",
    resume: r.state === "paused",
    cancel: !TERMINAL.includes(r.state),
    rollbackAll,
  };
}

function SummaryLine({ r, checked }: { r: RolloutView; checked: number }) {
  const s = r.summary;
  const endpoints = s.endpointsLosingLegacy;
  return (
    <div className="flex flex-col gap-2" data-testid="rollout-summary">
      {r.state === "planning" && (
        <p className="text-sm text-blue-800" role="status">
          Making the plan: {checked} of {plural(s.hosts, "host")} checked (read-only). The numbers below grow until every host is checked.
        </p>
      )}
      <p className="text-base text-slate-900">
        <span className="font-semibold">{s.changing === 1 ? "1 host changes" : `${s.changing.toLocaleString("en")} hosts change`}</span>,{" "}
        <span className="font-semibold">{s.reboots.toLocaleString("en")}</span> {s.reboots === 1 ? "needs" : "need"} a restart,{" "}
        <span className="font-semibold">{s.skipped.toLocaleString("en")}</span> skipped; endpoints that will stop accepting TLS 1.0/1.1:{" "}
        {endpoints.length === 0 ? <span className="text-slate-600">none</span> : <span className="font-medium">{endpoints.slice(0, ENDPOINTS_INLINE).join(", ")}</span>}
        {endpoints.length > ENDPOINTS_INLINE && <> and {endpoints.length - ENDPOINTS_INLINE} more</>}
      </p>
      {endpoints.length > ENDPOINTS_INLINE && (
        <details>
          <summary className="cursor-pointer text-sm text-slate-700">All {endpoints.length} endpoints that stop accepting TLS 1.0/1.1</summary>
          <ul className="mt-1 columns-1 text-sm text-slate-800 sm:columns-2 lg:columns-3">
            {endpoints.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </details>
      )}
      {r.startedAt && (
        <ul className="flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-700" aria-label="Hosts per state" data-testid="rollout-state-counts">
          {STATE_ORDER.filter((st) => (s.byState[st] ?? 0) > 0).map((st) => (
            <li key={st} className="flex items-center gap-1">
              <RolloutHostStateBadge state={st} /> <span className="font-semibold tabular-nums">{s.byState[st]}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ApprovalPanel({ r, viewer }: { r: RolloutView; viewer: { id: string; mayApprove: boolean } }) {
  let action: React.ReactNode = null;
  if (r.state === "planning") {
    action = <p className="text-sm text-slate-600">Approval opens when every host has been checked.</p>;
  } else if (r.state === "planned") {
    if (r.summary.changing === 0) action = <p className="text-sm text-slate-700">Nothing to approve: no host in this plan will change.</p>;
    else if (!viewer.mayApprove) action = <p className="text-sm text-slate-700">Waiting for an admin to approve the plan.</p>;
    else if (r.requiresSecondAdmin && r.requestedById === viewer.id)
      action = (
        <Alert kind="info">
          You requested this rollout, so you cannot approve it: {r.approvalRule ? r.approvalRule.replace(/^An admin other than the requester must approve: /, "an admin other than you must approve it because ") : "an admin other than you must approve it"}.
        </Alert>
      );
    else if (r.planHash) action = <ApproveButton rolloutId={r.id} planHash={r.planHash} changing={r.summary.changing} />;
  }
  const s = r.settings;
  return (
    <Card title="Approval">
      <div className="flex flex-col gap-4" data-testid="approval-panel">
        <dl className="grid grid-cols-1 gap-3 sm:grid-cols-2">
          <DetailField label="State"><RolloutStateBadge state={r.state} /></DetailField>
          <DetailField label="Plan">
            {r.planHash ? (
              <code className="font-mono text-sm" title={r.planHash} data-testid="plan-hash">{r.planHash.slice(0, 12)}</code>
            ) : (
              <span className="text-slate-600">being made</span>
            )}
          </DetailField>
          <DetailField label="Approval rule">{r.approvalRule ?? <span className="text-slate-600">set when the plan is ready</span>}</DetailField>
          <DetailField label="Approved">
            {r.approvedBy && r.approvedAt ? (
              <>
                by {r.approvedBy} at {formatUtc(r.approvedAt)}
              </>
            ) : (
              <span className="text-slate-600">not yet</span>
            )}
          </DetailField>
        </dl>
        <dl className="grid grid-cols-2 gap-3 border-t border-slate-100 pt-3 sm:grid-cols-3">
          <DetailField label="Canary">{s.canarySize === 0 ? "none" : plural(s.canarySize, "host")}</DetailField>
          <DetailField label="Further waves">{s.wave.kind === "percent" ? `${s.wave.percent}% of hosts each` : `${plural(s.wave.size, "host")} each`}</DetailField>
          <DetailField label="Failure budget">{`${s.budget.percent}%, at most ${plural(s.budget.absolute, "host")}`}</DetailField>
          <DetailField label="Restarts">
            {s.rebootPolicy === "now" ? "restart when needed" : s.rebootPolicy === "window" && s.maintenanceWindow ? `in the window: ${describeWindow(s.maintenanceWindow)}` : "never (hosts end pending reboot)"}
          </DetailField>
          <DetailField label="On failed verification">{s.rollbackOnFailure ? "roll the host back" : "leave it for review"}</DetailField>
          <DetailField label="At once">{plural(s.maxConcurrency, "host")}</DetailField>
        </dl>
        {action}
      </div>
    </Card>
  );
}

/** Hosts shown per page of the hosts table. */
const HOSTS_PER_PAGE = 100;
const HostsQuery = z.object({
  hostState: z.string().regex(/^[a-z_]{1,32}$/).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100_000).optional().catch(undefined),
});

export default async function RolloutPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requirePageUser("read");
  const { id } = await params;
  if (!z.uuid().safeParse(id).success) notFound();
  const r = await getRollout(id);
  if (!r) notFound();
  const query = HostsQuery.parse(await searchParams);

  const mayRun = can(user.role, "remediation.run");
  const planning = r.state === "planning";
  const checked = r.hosts.filter((h) => h.plan !== null || h.state !== "planned").length;
  const rollingBack = r.hosts.some((h) => h.state === "rolling_back");
  const live = isLiveRollout(r.state) || rollingBack;
  // The job doing the work now, whose event stream the page follows (a rollback's job is not in
  // the view: the page polls then).
  const liveJobId = (v: RolloutView) => (rollingBack ? null : v.state === "planning" ? v.planJobId : v.currentWave >= 0 ? (v.waves[v.currentWave]?.jobId ?? null) : null);
  const controls = controlsFor(r);
  const waveName = (i: number) => (i < 0 ? "—" : waveLabel(r.waves[i]?.name ?? `wave ${i}`));

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <Link className="text-sm text-brand-600 underline" href="/rollouts">← Rollouts</Link>
          <h1 className="mt-1 flex flex-wrap items-center gap-3 text-2xl font-semibold">
            <span>{goalsLabel(r.goals)}</span>
            <RolloutStateBadge state={r.state} />
          </h1>
          <p className="text-sm text-slate-600">
            {plural(r.summary.hosts, "host")} · requested by {r.requestedBy} at {formatUtc(r.createdAt)}
            {r.startedAt ? ` · started ${formatUtc(r.startedAt)}` : ""}
            {r.finishedAt ? ` · finished ${formatUtc(r.finishedAt)}` : ""}
            {r.planJobId && (
              <>
                {" · "}
                <Link className="text-brand-600 underline" href={`/jobs/${r.planJobId}`}>plan job</Link>
              </>
            )}
          </p>
        </div>
        <div className="flex flex-col items-end gap-2">
          <RolloutLive active={live} jobId={liveJobId(r)} idleText={TERMINAL.includes(r.state) ? "Final" : "Waiting for someone to act"} />
          <PackButton scope={{ kind: "rollout", rolloutId: r.id }} />
        </div>
      </div>

      <Card title={planning ? "Plan so far" : "What this rollout changes"}>
        <SummaryLine r={r} checked={checked} />
      </Card>

      {r.state === "halted" && (
        <div data-testid="halt-reason">
          <Alert kind="error">
            <p className="font-semibold">Halted: {r.haltReason ?? "the failure budget was exceeded"}.</p>
            <p>Hosts not started yet stay untouched. Look at the failed hosts below, then roll the changed hosts back or cancel the rollout.</p>
          </Alert>
        </div>
      )}
      {r.state !== "halted" && r.haltReason && <Alert kind="info">This rollout halted earlier: {r.haltReason}.</Alert>}

      <div className="grid grid-cols-1 items-start gap-4 xl:grid-cols-2">
        <ApprovalPanel r={r} viewer={{ id: user.id, mayApprove: can(user.role, "remediation.approve") }} />
        <Card title="Controls">
          {mayRun ? (
            <div className="flex flex-col gap-2">
              <RolloutControls rolloutId={r.id} controls={controls} changing={r.summary.changing} />
              {r.state === "running" && r.hosts.some(canRollBack) && <p className="text-xs text-slate-600">To roll hosts back, pause or cancel the rollout first, so no wave changes them meanwhile.</p>}
              {r.state === "planned" && <p className="text-xs text-slate-600">Start becomes available once an admin approves the plan.</p>}
              {TERMINAL.includes(r.state) && controls.rollbackAll === 0 && <p className="text-sm text-slate-600">Nothing left to do: the rollout is {r.state} and no changed host is waiting to be rolled back.</p>}
            </div>
          ) : (
            <p className="text-sm text-slate-600">Operators start, pause, cancel and roll back rollouts; your role ({user.role}) can follow it here.</p>
          )}
        </Card>
      </div>

      <Card title="Waves">
        {r.waves.length === 0 ? (
          <p className="text-sm text-slate-600">Waves are assigned when the rollout starts: the canary first{r.settings.canarySize > 0 ? ` (${plural(r.settings.canarySize, "host")})` : ""}, then the rest in waves.</p>
        ) : (
          <table className="w-full text-left text-sm" data-testid="waves">
            <caption className="sr-only">Waves, in the order they run</caption>
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th scope="col" className="py-2 pr-3">Wave</th>
                <th scope="col" className="pr-3">Hosts</th>
                <th scope="col" className="pr-3">Settled</th>
                <th scope="col" className="pr-3">Verified</th>
                <th scope="col" className="pr-3">Failed</th>
                <th scope="col">Job</th>
              </tr>
            </thead>
            <tbody>
              {r.waves.map((w) => (
                <tr key={w.index} className={`border-t border-slate-100 ${w.index === r.currentWave && !TERMINAL.includes(r.state) ? "bg-blue-50/60" : ""}`} data-testid="wave-row">
                  <td className="py-2 pr-3 font-medium">
                    {waveLabel(w.name)}
                    {w.index === r.currentWave && !TERMINAL.includes(r.state) && <span className="ml-2 text-xs font-normal text-blue-800">current</span>}
                  </td>
                  <td className="py-2 pr-3 tabular-nums">{w.hosts}</td>
                  <td className="py-2 pr-3 tabular-nums">{w.settled}</td>
                  <td className="py-2 pr-3 tabular-nums text-green-800">{w.verified}</td>
                  <td className={`py-2 pr-3 tabular-nums ${w.failed > 0 ? "font-semibold text-red-800" : ""}`}>{w.failed}</td>
                  <td className="py-2">{w.jobId ? <Link className="text-brand-600 underline" href={`/jobs/${w.jobId}`}>Open job</Link> : <span className="text-slate-500">not started</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>

      <Card title={`Hosts (${r.hosts.length})`}>
        <HostsPager rollout={r} state={query.hostState} page={query.page ?? 1} />
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Hosts of this rollout with their planned changes</caption>
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th scope="col" className="py-2 pr-3">Host</th>
                <th scope="col" className="pr-3">Wave</th>
                <th scope="col" className="pr-3">State</th>
                <th scope="col" className="pr-3">Changes (value: before → after)</th>
                <th scope="col" className="pr-3">Restart</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {pageOfHosts(r.hosts, query.hostState, query.page ?? 1).hosts.map((h) => (
                <tr key={h.id} className="border-t border-slate-100 align-top" data-testid="rollout-host" data-host={h.hostName}>
                  <td className="py-2 pr-3">
                    {h.hostId ? (
                      <Link className="break-all font-medium text-brand-600 underline" href={`/hosts/${h.hostId}`}>{h.hostName}</Link>
                    ) : (
                      <span className="break-all font-medium text-slate-800" title="This host was deleted">{h.hostName} <span className="text-xs font-normal text-slate-500">(deleted)</span></span>
                    )}
                  </td>
                  <td className="whitespace-nowrap py-2 pr-3 text-slate-700">{waveName(h.wave)}</td>
                  <td className="max-w-64 py-2 pr-3">
                    <RolloutHostStateBadge state={h.state} checking={planning && h.state === "planned" && h.plan === null} />
                    {h.reason && <p className="mt-1 text-xs text-slate-700">{h.reason}</p>}
                  </td>
                  <td className="min-w-72 py-2 pr-3"><HostPlanDiff plan={h.plan} /></td>
                  <td className="py-2 pr-3 text-xs">{h.rebootNeeded ? <span className="font-medium text-violet-800">needed</span> : <span className="text-slate-600">no</span>}</td>
                  <td className="py-2">
                    <div className="flex flex-col items-start gap-2">
                      {mayRun && r.state !== "running" && canRollBack(h) && <HostRollbackButton rolloutId={r.id} hostId={h.hostId} hostName={h.hostName} />}
                      {h.log ? (
                        <details>
                          <summary className="cursor-pointer text-xs text-slate-700">Log ({h.log.trimEnd().split("\n").length} lines)</summary>
                          <pre className="mt-1 max-h-64 max-w-xl overflow-auto whitespace-pre-wrap rounded bg-slate-50 p-2 text-xs text-slate-800">{h.log}</pre>
                        </details>
                      ) : (
                        <span className="text-xs text-slate-500">No log yet</span>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </div>
  );
}

function pageOfHosts(hosts: RolloutHostView[], state: string | undefined, page: number) {
  const matching = state ? hosts.filter((h) => h.state === state) : hosts;
  const pages = Math.max(1, Math.ceil(matching.length / HOSTS_PER_PAGE));
  const current = Math.min(page, pages);
  return { matching: matching.length, pages, current, hosts: matching.slice((current - 1) * HOSTS_PER_PAGE, current * HOSTS_PER_PAGE) };
}

/** Filter by host state (with counts) and pages of HOSTS_PER_PAGE, as plain links. */
function HostsPager({ rollout, state, page }: { rollout: RolloutView; state: string | undefined; page: number }) {
  const counts = new Map<string, number>();
  for (const h of rollout.hosts) counts.set(h.state, (counts.get(h.state) ?? 0) + 1);
  const { matching, pages, current } = pageOfHosts(rollout.hosts, state, page);
  const href = (next: { hostState?: string; page?: number }) => {
    const q = new URLSearchParams();
    if (next.hostState) q.set("hostState", next.hostState);
    if (next.page && next.page > 1) q.set("page", String(next.page));
    const qs = q.toString();
    return `/rollouts/${rollout.id}${qs ? `?${qs}` : ""}`;
  };
  if (counts.size <= 1 && pages === 1) return null;
  const chip = (active: boolean) => `rounded-full px-2 py-0.5 text-xs ring-1 ring-inset ${active ? "bg-slate-800 text-white ring-slate-800" : "text-slate-700 ring-slate-300 hover:bg-slate-50"}`;
  return (
    <nav aria-label="Filter and page the hosts" className="mb-3 flex flex-wrap items-center gap-2" data-testid="rollout-hosts-pager">
      <Link className={chip(!state)} href={href({})} aria-current={!state ? "page" : undefined}>All {rollout.hosts.length}</Link>
      {[...counts].map(([s, n]) => (
        <Link key={s} className={`inline-flex items-center gap-1 rounded-md px-1 py-0.5 text-xs text-slate-800 ${state === s ? "ring-2 ring-slate-800" : "hover:bg-slate-50"}`} href={href({ hostState: s })} aria-current={state === s ? "page" : undefined}>
          <RolloutHostStateBadge state={s} /> {n}
        </Link>
      ))}
      {pages > 1 && (
        <span className="ml-auto flex items-center gap-2 text-xs text-slate-700">
          {current > 1 && <Link className="text-brand-600 underline" href={href({ hostState: state, page: current - 1 })}>Previous</Link>}
          <span>
            Page {current} of {pages} ({matching} hosts)
          </span>
          {current < pages && <Link className="text-brand-600 underline" href={href({ hostState: state, page: current + 1 })}>Next</Link>}
        </span>
      )}
    </nav>
  );
}
