// A rollout's settings as the requester chose them: waves, failure budget, reboot policy. Parsed
// at every boundary (form, API, the stored Rollout.settings) with the same schema.
import { z } from "zod";
import { MaintenanceWindow } from "./window";

export const ROLLOUT_GOALS = ["enable-tls12", "disable-legacy"] as const;
export type RolloutGoal = (typeof ROLLOUT_GOALS)[number];

export const GOAL_LABEL: Record<RolloutGoal, string> = { "enable-tls12": "Enable TLS 1.2", "disable-legacy": "Disable TLS 1.0/1.1" };

export const RolloutGoals = z
  .array(z.enum(ROLLOUT_GOALS, { message: "A goal is enable-tls12 or disable-legacy" }))
  .min(1, "Choose at least one goal: Enable TLS 1.2, Disable TLS 1.0/1.1, or both")
  .transform((goals) => ROLLOUT_GOALS.filter((g) => goals.includes(g)));

export const REBOOT_POLICIES = ["never", "now", "window"] as const;
export type RebootPolicy = (typeof REBOOT_POLICIES)[number];

export const RolloutSettings = z
  .object({
    /** Hosts in the canary wave (0: no canary). */
    canarySize: z.number().int().min(0).max(100).default(1),
    wave: z
      .discriminatedUnion("kind", [
        z.object({ kind: z.literal("count"), size: z.number().int().min(1).max(10_000) }),
        z.object({ kind: z.literal("percent"), percent: z.number().min(1).max(100) }),
      ])
      .default({ kind: "percent", percent: 25 }),
    /** Halt when failures exceed either: a percentage of the rollout's hosts, or an absolute count. */
    budget: z
      .object({ percent: z.number().min(0).max(100).default(10), absolute: z.number().int().min(0).default(2) })
      .default({ percent: 10, absolute: 2 }),
    /** never: a host whose change needs a restart ends "pending reboot"; now: it is restarted and
     *  verified after; window: the change is applied at once, the restart waits for the
     *  maintenance window (the wave waits with it). */
    rebootPolicy: z.enum(REBOOT_POLICIES).default("never"),
    /** When restarts may start, for the reboot policy "window". */
    maintenanceWindow: MaintenanceWindow.nullable().default(null),
    /** Roll a host back at once when it fails verification on the wire. */
    rollbackOnFailure: z.boolean().default(false),
    /** Hosts of one wave worked on at once. */
    maxConcurrency: z.number().int().min(1).max(64).default(8),
    /** How long a restarted host may take to come back (its boot identity changed) before it fails. */
    rebootTimeoutSeconds: z.number().int().min(10).max(3600).default(900),
  })
  .refine((s) => s.rebootPolicy !== "window" || s.maintenanceWindow !== null, { message: "Restarting in a maintenance window needs the window: days, start time, length and time zone", path: ["maintenanceWindow"] });
export type RolloutSettingsValue = z.output<typeof RolloutSettings>;
export type RolloutSettingsInput = z.input<typeof RolloutSettings>;
