// What a rollout stores per host, parsed with zod wherever it is read back (Rollout.settings and
// RolloutHost.plan/before are JSON columns: a boundary like any other).
import { z } from "zod";

export const PlannedChange = z.object({
  path: z.string(),
  value: z.string(),
  from: z.union([z.string(), z.number(), z.null()]),
  to: z.union([z.string(), z.number(), z.null()]),
  reason: z.string(),
});

export const PlannedPlaybook = z.object({
  id: z.string(),
  changes: z.array(PlannedChange),
  /** The change takes effect only after a restart (SCHANNEL). */
  rebootNeeded: z.boolean(),
  /** The state before, in the operator's terms (Playbook.describe). */
  describe: z.array(z.string()),
});
export type PlannedPlaybookValue = z.output<typeof PlannedPlaybook>;

/** The frozen dry run for one host: what will change, and the identity it was planned for. */
export const HostPlan = z.object({
  /** A host re-addressed or re-pointed since the plan is not changed ("plan out of date"). */
  identity: z.object({ address: z.string(), transport: z.string(), port: z.number().nullable(), pinnedKey: z.string().nullable() }),
  playbooks: z.array(PlannedPlaybook),
  /** Accepted versions per endpoint label before the rollout: what a rollback must bring back. */
  wireBefore: z.record(z.string(), z.array(z.string())),
  /** Endpoints that accept TLS 1.0/1.1 now and will stop (disable-legacy). */
  endpointsLosingLegacy: z.array(z.string()),
});
export type HostPlanValue = z.output<typeof HostPlan>;

/** Per playbook id: the ConfigState read right before the first write (the rollback point). */
export const HostBefore = z.record(z.string(), z.record(z.string(), z.unknown()));

/** Job.parameters of a rollout's plan / remediate / rollback job. */
export const RolloutJobParameters = z.object({ rolloutId: z.string().uuid(), wave: z.number().int().optional() }).passthrough();

/** The same change, compared by where and what (reason text may be reworded between versions). */
export function sameChanges(a: ReadonlyArray<z.input<typeof PlannedChange>>, b: ReadonlyArray<z.input<typeof PlannedChange>>): boolean {
  const key = (c: z.input<typeof PlannedChange>) => JSON.stringify([c.path, c.value, c.from, c.to]);
  const ka = a.map(key).sort();
  const kb = b.map(key).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}
