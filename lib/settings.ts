import "server-only";
// Admin-editable settings, stored as JSON in the Setting table. Every key has one zod schema and a
// default here, so a value written by an older release (or by hand) that no longer parses falls
// back to the default with a log line instead of breaking scans.
import { z } from "zod";
import { prisma } from "./db";
import { env } from "./env";
import { logger } from "./log";
import { recordAuditInTx } from "./audit/log";
import { parseAllowList, AllowListSyntaxError, type AllowList } from "./tls/allowlist";
import type { Tx } from "./db";
import type { Actor } from "./auth/actor";


// Five cron fields (minute hour day-of-month month day-of-week), as pg-boss schedule() takes them.
// pg-boss parses the expression again when the schedule is applied; this only keeps obvious
// garbage (and anything with shell or SQL characters) out of the table.
const CRON = /^\s*([0-9*,/-]+|\?)(\s+[0-9A-Za-z*,/?-]+){4}\s*$/;

export const RescanSchedule = z
  .string()
  .trim()
  .max(100)
  .refine((v) => ["off", "hourly", "daily", "weekly"].includes(v) || CRON.test(v), {
    message: "Use off, hourly, daily, weekly or a five-field cron expression such as 30 2 * * 1-5",
  });
export type RescanScheduleValue = z.output<typeof RescanSchedule>;

export const DriftWebhookUrl = z
  .string()
  .trim()
  .max(2000)
  .url("Enter a full URL, e.g. https://hooks.example.com/tlsfleet")
  .refine((v) => /^https?:\/\//i.test(v), { message: "The webhook must be an http(s) URL" })
  .nullable();

export const AllowedTargets = z
  .array(z.string().trim().min(1).max(253))
  .max(500)
  .superRefine((entries, ctx) => {
    try {
      parseAllowList(entries);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: err instanceof AllowListSyntaxError ? `${err.entry}: ${err.reason}` : String(err) });
    }
  });

const SETTINGS = {
  /** off | hourly | daily | weekly | cron: when every host is rescanned (requested by "system"). */
  rescanSchedule: { schema: RescanSchedule, fallback: "off" as RescanScheduleValue },
  /** POSTed (JSON) when a compliant host drifts to a failing status. Null: no webhook. */
  driftWebhookUrl: { schema: DriftWebhookUrl, fallback: null as string | null },
  /** CIDRs / addresses / DNS suffixes probes may reach. Empty: TLSFLEET_ALLOWED_TARGETS applies. */
  allowedTargets: { schema: AllowedTargets, fallback: [] as string[] },
  /** A rollout that changes more hosts than this needs an admin other than its requester. */
  rolloutSecondAdminAboveHosts: { schema: z.number().int().min(0).max(100_000), fallback: 1 },
  /** A rollout touching a host with this tag needs an admin other than its requester. */
  rolloutProductionTag: { schema: z.string().trim().min(1).max(64), fallback: "production" },
  /** How long an approval stays valid before the rollout must be started (hours). */
  rolloutApprovalTtlHours: { schema: z.number().min(0.01).max(24 * 30), fallback: 24 },
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = z.output<(typeof SETTINGS)[K]["schema"]>;

export async function getSetting<K extends SettingKey>(key: K, db: Pick<Tx, "$queryRaw"> = prisma): Promise<SettingValue<K>> {
  // Raw: scans read allowedTargets once per host, and an ORM call costs several times as much CPU.
  const [row] = await db.$queryRaw<Array<{ value: unknown }>>`SELECT value FROM "Setting" WHERE key = ${key}`;
  const def = SETTINGS[key];
  if (!row) return def.fallback as SettingValue<K>;
  const parsed = def.schema.safeParse(row.value);
  if (!parsed.success) {
    logger.warn({ key, issues: parsed.error.issues.map((i) => i.message) }, "stored setting does not parse; using the default");
    return def.fallback as SettingValue<K>;
  }
  return parsed.data as SettingValue<K>;
}

/** Validates and stores a setting, with its audit event in the same transaction. Returns the stored value. */
export async function setSetting<K extends SettingKey>(actor: Actor, key: K, value: unknown, tx?: Tx): Promise<SettingValue<K>> {
  const parsed = SETTINGS[key].schema.parse(value) as SettingValue<K>;
  const write = async (t: Tx) => {
    const before = await t.setting.findUnique({ where: { key } });
    await t.setting.upsert({ where: { key }, create: { key, value: parsed as never }, update: { value: parsed as never } });
    await recordAuditInTx(t, {
      actor: actor.email,
      actorId: actor.id,
      action: "settings.update",
      target: `setting:${key}`,
      details: { from: (before?.value as unknown) ?? null, to: parsed as unknown },
    });
  };
  if (tx) await write(tx);
  else await prisma.$transaction(write);
  return parsed;
}

/**
 * Where scans may probe: the Setting when an admin has set one, else TLSFLEET_ALLOWED_TARGETS.
 * Null when neither is configured: the scan refuses every target (a scanner that probes whatever
 * it is given is a weapon, docs/security.md "Allowed targets").
 */
export async function effectiveAllowList(): Promise<{ list: AllowList; source: "settings" | "env" } | null> {
  const stored = await storedAllowedTargets();
  if (stored.length) {
    // A list saved before an entry kind was refused (a numeric "suffix", an IPv6 range covering
    // IPv4) must not fall back to the environment's list: the refused entries are dropped (which
    // only narrows) and logged; the row itself stays as it is until an admin saves the page.
    const valid: string[] = [];
    for (const entry of stored) {
      try {
        parseAllowList([entry]);
        valid.push(entry);
      } catch (err) {
        logger.error({ entry, reason: err instanceof AllowListSyntaxError ? err.reason : String(err) }, "stored allowed-targets entry is refused; ignoring it until an admin fixes it in Settings > Scans");
      }
    }
    return { list: parseAllowList(valid), source: "settings" };
  }
  if (env.TLSFLEET_ALLOWED_TARGETS) {
    try {
      return { list: parseAllowList(env.TLSFLEET_ALLOWED_TARGETS), source: "env" };
    } catch (err) {
      logger.error({ err }, "TLSFLEET_ALLOWED_TARGETS does not parse; refusing every target");
      return null;
    }
  }
  return null;
}

/** The allowed-targets entries as stored, also those the current rules refuse (for the settings
 *  page, so an admin sees and fixes them instead of finding an empty list). */
export async function storedAllowedTargets(): Promise<string[]> {
  const [row] = await prisma.$queryRaw<Array<{ value: unknown }>>`SELECT value FROM "Setting" WHERE key = 'allowedTargets'`;
  const raw = z.array(z.string()).safeParse(row?.value);
  return raw.success ? raw.data.map((e) => e.trim()).filter(Boolean) : [];
}

/** The env fallback, shown on the settings page so admins see what applies when the list is empty. */
export function envAllowedTargets(): string | null {
  return env.TLSFLEET_ALLOWED_TARGETS ?? null;
}

/** Cron expression for a schedule setting; null for "off". Times are UTC. */
export function cronForSchedule(schedule: RescanScheduleValue): string | null {
  switch (schedule) {
    case "off":
      return null;
    case "hourly":
      return "0 * * * *";
    case "daily":
      return "0 3 * * *"; // 03:00 UTC: outside business hours for most of Europe, where mail flow is busiest
    case "weekly":
      return "0 3 * * 1";
    default:
      return schedule.trim().replace(/\s+/g, " ");
  }
}
