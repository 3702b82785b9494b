import Link from "next/link";
import { notFound } from "next/navigation";
import { z } from "zod";
import { requirePageUser } from "@/lib/auth/guard";
import { can } from "@/lib/auth/roles";
import { getHostDetail } from "@/lib/hosts/detail";
import { FAILING_STATUSES } from "@/lib/compliance/status";
import { hostRemediationHistory } from "@/lib/rollout/views";
import { exceptionsForHost } from "@/lib/exceptions/service";
import { latestOutboundCheck } from "@/lib/outbound/observations";
import { MAX_EXCEPTION_DAYS } from "@/lib/exceptions/model";
import { Alert } from "@/app/_components/ui/alert";
import { Breadcrumb } from "@/app/_components/ui/breadcrumb";
import { ExceptionTable } from "@/app/(app)/exceptions/components/exception-table";
import { ExceptionRequestForm } from "@/app/(app)/exceptions/components/exception-request-form";
import { Card } from "@/app/_components/ui/card";
import { DetailField } from "@/app/_components/ui/detail-field";
import { StatusBadge } from "@/app/_components/ui/status-badge";
import { durationSince, formatDay } from "@/app/(app)/components/format";
import { formatUtc } from "@/lib/time";
import { ProtocolMatrix } from "./components/protocol-matrix";
import { ConfigEvidence } from "./components/config-evidence";
import { MailDirections } from "./components/mail-directions";
import { Timeline } from "./components/timeline";
import { HostJobButton } from "./components/host-job-button";
import { OutboundEvidence } from "./components/outbound-evidence";
import { HostKeyPanel } from "./components/host-key-panel";
import { RemediationHistory } from "./components/remediation-history";
import { Button } from "@/app/_components/ui/button";
import { CREDENTIAL_DETACHED_PARAM } from "../components/links";

export const dynamic = "force-dynamic";

const none = <span className="text-slate-400">–</span>;

export default async function HostPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requirePageUser("read");
  const [{ id }, query] = await Promise.all([params, searchParams]);
  if (!z.uuid().safeParse(id).success) notFound();
  const [detail, remediations, exceptions, outbound] = await Promise.all([getHostDetail(id), hostRemediationHistory(id), exceptionsForHost(id), latestOutboundCheck(id)]);
  if (!detail) notFound();
  const { host, status } = detail;
  const now = new Date();
  const failing = FAILING_STATUSES.has(status.status);
  const retired = host.retiredAt !== null;
  // Postfix sends through its own smtp client; a Windows host through the OS's TLS client (docs/outbound-check.md).
  const isWindows = host.platform === "windows";
  const sendsOutbound = isWindows || host.roles.includes("postfix");
  const outboundDisabledReason = !host.credential || host.transport === "none" || (!isWindows && host.transport !== "ssh") ? (isWindows ? "Set WinRM (or SSH) and a credential on the edit page first" : "Set SSH and a credential on the edit page first") : undefined;
  const day = (d: Date) => d.toISOString().slice(0, 10);

  return (
    <div className="flex flex-col gap-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <Breadcrumb trail={[{ href: "/hosts", label: "Hosts" }]} />
          <h1 className="flex flex-wrap items-center gap-3 text-2xl font-semibold">
            <span className="break-all">{host.name}</span>
            <StatusBadge status={status.status} />
          </h1>
          <p className="text-sm text-slate-600">{host.address}</p>
        </div>
        {!retired && <div className="flex items-start gap-2">
          {can(user.role, "scans.run") && detail.endpoints.length > 0 && <HostJobButton job="scan" hostId={host.id} />}
          {can(user.role, "audits.run") && (
            <HostJobButton job="audit" hostId={host.id} disabledReason={host.transport === "none" || !host.credential ? "Set a transport and a credential on the edit page first" : undefined} />
          )}
          {can(user.role, "outbound.run") && sendsOutbound && (
            <HostJobButton job="outbound" hostId={host.id} disabledReason={outboundDisabledReason} />
          )}
          {can(user.role, "remediation.request") &&
            (host.transport === "none" || !host.credential ? (
              <Button type="button" variant="secondary" disabled title="Set a transport and a credential on the edit page first">
                Remediate…
              </Button>
            ) : (
              <Link href={`/rollouts/new?hostIds=${host.id}`} className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100">
                Remediate…
              </Link>
            ))}
          {can(user.role, "hosts.write") && (
            <Link href={`/hosts/${host.id}/edit`} className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100">Edit</Link>
          )}
        </div>}
      </div>

      {/* Only while it is still true: a reload after an admin re-attached one says nothing. */}
      {!retired && !host.credential && `saved=${String(query.saved)}` === CREDENTIAL_DETACHED_PARAM && (
        <Alert kind="warning">
          <span data-testid="credential-detached">
            Saved. This host no longer has a credential: changing the address, transport, port or credential of a host detaches its credential unless an admin makes the change, because the credential&apos;s secret would go to another machine. An admin must attach a credential again on the edit page; until then config audits and remediation cannot log in.
          </span>
        </Alert>
      )}

      {retired && (
        <Alert kind="info">
          This host was deleted on {formatUtc(host.retiredAt!)}: it is no longer in the inventory, scanned or remediated. Its evidence and history below are kept for audits and exports.
        </Alert>
      )}

      <Card title="Compliance status">
        <div className="flex flex-col gap-2" data-testid="host-status">
          <div className="flex flex-wrap items-center gap-2">
            <StatusBadge status={status.status} />
            <p className="text-sm text-slate-900" data-testid="status-explanation">{status.explanation}</p>
          </div>
          <dl className="grid grid-cols-1 gap-3 pt-2 sm:grid-cols-3">
            <DetailField label="Out of compliance since">
              {failing && status.firstFailingAt ? (
                <span className="font-medium text-red-800" title={formatUtc(status.firstFailingAt)}>
                  {formatDay(status.firstFailingAt)} ({durationSince(status.firstFailingAt, now)})
                </span>
              ) : (
                <span className="text-slate-600">{failing ? "unknown" : "not failing"}</span>
              )}
            </DetailField>
            <DetailField label="Last scan">{status.lastScanAt ? formatUtc(status.lastScanAt) : <span className="text-slate-600">never scanned</span>}</DetailField>
            <DetailField label="Status since">{formatUtc(status.lastChangedAt)}</DetailField>
          </dl>
          <div className="pt-2">
            <MailDirections directions={detail.directions} />
          </div>
        </div>
      </Card>

      <Card title="Identity">
        <dl className="grid grid-cols-2 gap-4 md:grid-cols-4" data-testid="host-identity">
          <DetailField label="Name">{host.name}</DetailField>
          <DetailField label="Address">{host.address}</DetailField>
          <DetailField label="Platform">{host.platform}{host.osName ? ` (${host.osName}${host.osBuild ? ` ${host.osBuild}` : ""})` : ""}</DetailField>
          <DetailField label="Roles">{host.roles.length ? host.roles.join(", ") : none}</DetailField>
          <DetailField label="Tags">
            {host.tags.length ? (
              <span className="flex flex-wrap gap-1">
                {host.tags.map((t) => (
                  <Link key={t} href={`/hosts?tag=${encodeURIComponent(t)}`} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700 hover:bg-slate-200">{t}</Link>
                ))}
              </span>
            ) : none}
          </DetailField>
          <DetailField label="Group">{host.group ? <Link href={`/hosts?group=${encodeURIComponent(host.group)}`} className="text-brand-700 hover:underline">{host.group}</Link> : none}</DetailField>
          <DetailField label="Owner">{host.owner ?? none}</DetailField>
          <DetailField label="Transport">{host.transport === "none" ? "none (wire probes only)" : `${host.transport}${host.port ? ` port ${host.port}` : ""}`}</DetailField>
          <DetailField label="Credential">{host.credential ? `${host.credential.name} (${host.credential.kind.replace("_", " ")})` : none}</DetailField>
          <DetailField label="Added">{formatDay(host.createdAt)}</DetailField>
        </dl>
      </Card>

      {/* Wire evidence of both directions (the inbound probes, then the outbound check) beside the
          config evidence of both sides, where a mismatch is read across the row; stacked below
          1920 px: the version matrix needs 48rem, more than half of narrower screens. */}
      <div className="grid grid-cols-1 items-start gap-6 min-[1920px]:grid-cols-2" data-testid="evidence-row">
        <div className="flex min-w-0 flex-col gap-6">
          <Card title={`Endpoints and protocols (${detail.endpoints.length})`}>
            <p className="mb-3 text-xs text-slate-600">Inbound on the wire: the latest probe of each endpoint (this host as TLS server). Hover a cell for the reason (a TLS alert, a timeout…); unknown means nothing could be concluded, never that the version was refused.</p>
            <ProtocolMatrix endpoints={detail.endpoints} now={now} />
          </Card>

          {sendsOutbound && (
            <Card title="Outbound check: this host's mail client to Microsoft 365">
              <OutboundEvidence check={outbound} windows={isWindows} />
            </Card>
          )}
        </div>

        {/* ---- Configuration evidence: filled by config-audit jobs (agents/playbooks via ConfigSnapshot). ---- */}
        <Card title="Configuration evidence" className="min-w-0">
          <ConfigEvidence snapshots={detail.config} hasCredential={host.credential !== null} />
        </Card>
        {/* ---- end of configuration evidence ---- */}
      </div>

      {host.transport !== "none" && (
        <Card title="Pinned host key">
          <HostKeyPanel hostId={host.id} transport={host.transport} pinnedKey={host.pinnedKey} pinnedAt={host.pinnedAt} pendingKey={host.pinnedKeyPending} trust={{ trustOnFirstUse: host.trustOnFirstUse, allowWinrmHttp: host.allowWinrmHttp, legacyTls: host.legacyTls }} canManage={can(user.role, "settings.manage")} />
        </Card>
      )}

      <Card title="Exceptions">
        <div className="flex flex-col gap-4" data-testid="host-exceptions">
          {exceptions.length ? (
            <ExceptionTable rows={exceptions} canDecide={can(user.role, "exceptions.approve")} viewerId={user.id} showHost={false} />
          ) : (
            <p className="text-sm text-slate-600">No exceptions. When a finding must stay for a while (a legacy peer, a planned replacement), request one: it needs a justification, an expiry, and an admin other than you to approve it.</p>
          )}
          {!retired && can(user.role, "exceptions.request") && (
            <ExceptionRequestForm hostId={host.id} ports={detail.endpoints.map((e) => e.port)} minDate={day(now)} maxDate={day(new Date(now.getTime() + (MAX_EXCEPTION_DAYS - 1) * 86_400_000))} />
          )}
        </div>
      </Card>

      <Card title="Remediation history">
        <RemediationHistory rows={remediations} />
      </Card>

      <Card title="History">
        <Timeline entries={detail.timeline} />
      </Card>
    </div>
  );
}
