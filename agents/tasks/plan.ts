// The plan task of a rollout: the dry run for one host. Reads the host's configuration with each
// applicable playbook's read-only check, asks the playbook what it would change for the goals,
// and stores that per host (RolloutHost.plan). Nothing on the host is changed. A host that cannot
// be planned is skipped with the reason an operator needs (no credential, unknown key, no
// playbook, unreachable, already compliant).
import { prisma } from "../../lib/db";
import { QUEUES } from "../../lib/jobs/queue";
import { advanceRolloutSoon } from "../../lib/rollout/controller";
import { RolloutJobParameters, type HostPlanValue, type PlannedPlaybookValue } from "../../lib/rollout/model";
import type { RolloutGoal } from "../../lib/rollout/settings";
import { acceptedVersions, type EndpointWire } from "../../lib/rollout/verify";
import { effectiveAllowList } from "../../lib/settings";
import { parseAllowList } from "../../lib/tls";
import { wireProtocols } from "../../lib/compliance/update";
import { playbooksFor } from "../playbooks";
import { openHostSession } from "../transport/open-session";
import { TransportError } from "../transport/types";
import { sessionTaskConcurrency, type TaskHelpers, type TaskKind, type TaskResult } from "./runner";

/** The latest wire evidence per endpoint of a host, as the verification compares it. */
export async function latestWire(hostId: string): Promise<EndpointWire[]> {
  const rows = await prisma.$queryRaw<Array<{ port: number; service: string; verdict: string; protocols: unknown }>>`
    SELECT e.port, e.service, r.verdict, r.protocols
    FROM "Endpoint" e
    JOIN LATERAL (SELECT verdict, protocols FROM "ProbeResult" p WHERE p."endpointId" = e.id ORDER BY p."probedAt" DESC LIMIT 1) r ON true
    WHERE e."hostId" = ${hostId}::uuid AND e."removedAt" IS NULL ORDER BY e.port`;
  return rows.map((r) => ({ label: `${r.port}/${r.service}`, verdict: r.verdict, protocols: wireProtocols(r.protocols) as EndpointWire["protocols"] }));
}

/** Marks the rollout host skipped (with the reason) and ends the task as skipped. */
export function skipHost(h: TaskHelpers, rolloutHostId: string, reason: string, rolloutId: string): TaskResult {
  return {
    kind: "finish",
    state: "skipped",
    error: reason,
    summary: `skipped: ${reason}`,
    write: async (tx) => {
      await tx.rolloutHost.update({ where: { id: rolloutHostId }, data: { state: "skipped", reason } });
    },
    afterCommit: () => advanceRolloutSoon(rolloutId),
  };
}

export function planTask(opts: { concurrency?: number; connectTimeoutMs?: number } = {}): TaskKind {
  return {
    kind: "plan",
    queue: QUEUES.planTask,
    concurrency: sessionTaskConcurrency(opts.concurrency),
    async run(h): Promise<TaskResult> {
      const params = RolloutJobParameters.parse(h.jobParameters);
      const [host, rolloutHost, rollout] = await Promise.all([
        prisma.host.findUnique({ where: { id: h.lease.hostId } }),
        prisma.rolloutHost.findUnique({ where: { rolloutId_hostId: { rolloutId: params.rolloutId, hostId: h.lease.hostId } } }),
        prisma.rollout.findUnique({ where: { id: params.rolloutId }, select: { goals: true } }),
      ]);
      if (!host || !rolloutHost || !rollout) return { kind: "discard", reason: "the host or its rollout was deleted" };
      const skip = (reason: string) => skipHost(h, rolloutHost.id, reason, params.rolloutId);
      const goals = rollout.goals as RolloutGoal[];

      if (host.transport === "none" || !host.credentialId) return skip("no credential: set one (and the transport) on the host page");
      const playbooks = playbooksFor(host);
      if (playbooks.length === 0) return skip(`no playbook applies to a ${host.platform} host with roles [${host.roles.join(", ")}]`);
      // No secret goes to a host whose key nobody confirmed; a config audit records it for an admin.
      if (!host.pinnedKey) return skip(`unknown ${host.transport === "ssh" ? "host key" : "certificate"}: run a config audit, then an admin confirms the key on the host page`);

      const allowed = await effectiveAllowList();
      await h.log(`planning ${goals.join(" + ")} on ${host.name}: playbooks ${playbooks.map((p) => p.id).join(", ")} (read-only)`);
      let session;
      try {
        session = (await openHostSession(host, { allowList: allowed?.list ?? parseAllowList([]), connectTimeoutMs: opts.connectTimeoutMs })).session;
      } catch (err) {
        if (err instanceof TransportError) return skip(err.code === "connect" || err.code === "timeout" ? `unreachable: ${err.message}` : err.message);
        throw err;
      }
      const planned: PlannedPlaybookValue[] = [];
      try {
        for (const playbook of playbooks) {
          if (h.stopReason()) break;
          const state = await playbook.check(session);
          const missing = goals.map((g) => playbook.prerequisites?.(state, g) ?? null).find((m) => m !== null);
          if (missing) {
            await session.close();
            return skip(`prerequisites missing: ${missing}`);
          }
          const changes = goals.flatMap((g) => playbook.plan(state, g));
          planned.push({ id: playbook.id, changes, rebootNeeded: changes.length > 0 && playbook.reboot !== undefined, describe: playbook.describe(state) });
          await h.log(`${playbook.id}: ${changes.length} change(s)`);
          for (const c of changes) await h.log(`  ${c.path} ${c.value}: ${c.from ?? "(absent)"} -> ${c.to ?? "(delete)"}`);
        }
      } catch (err) {
        if (h.stopReason()) return { kind: "release", reason: "stopped while planning" };
        const message = err instanceof Error ? err.message : String(err);
        if (err instanceof TransportError && (err.code === "connect" || err.code === "timeout")) return skip(`unreachable while reading its configuration: ${message}`);
        return skip(`its configuration could not be read: ${message}`);
      } finally {
        await session.close();
      }
      if (h.stopReason() === "shutdown") return { kind: "release", reason: "worker stopping" };
      if (h.stopReason() === "cancel") return { kind: "finish", state: "cancelled", error: null, summary: "cancelled" };

      const wire = await latestWire(host.id);
      const changing = planned.some((p) => p.changes.length > 0);
      const plan: HostPlanValue = {
        identity: { address: host.address, transport: host.transport, port: host.port, pinnedKey: host.pinnedKey },
        playbooks: planned,
        wireBefore: acceptedVersions(wire),
        endpointsLosingLegacy: goals.includes("disable-legacy") ? wire.filter((e) => e.protocols.TLSv1 === "accepted" || e.protocols["TLSv1.1"] === "accepted").map((e) => e.label) : [],
      };
      const rebootNeeded = planned.some((p) => p.rebootNeeded);
      return {
        kind: "finish",
        state: "succeeded",
        error: null,
        summary: changing ? `planned: ${planned.reduce((n, p) => n + p.changes.length, 0)} change(s)${rebootNeeded ? ", reboot needed" : ""}` : "already compliant: nothing to change",
        write: async (tx) => {
          await tx.rolloutHost.update({
            where: { id: rolloutHost.id },
            data: changing ? { state: "planned", plan: plan as never, rebootNeeded, reason: null } : { state: "skipped", plan: plan as never, reason: "already compliant: nothing to change" },
          });
        },
        afterCommit: () => advanceRolloutSoon(params.rolloutId),
      };
    },
  };
}
