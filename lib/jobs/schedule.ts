import "server-only";
// Scheduled rescans: the "rescanSchedule" setting becomes a pg-boss schedule on the
// scheduled-rescan queue. pg-boss's clock runs in every started instance and sends one message
// per tick for the whole cluster; any worker picks it up and creates a scan of every host.
import { z } from "zod";
import { logger } from "../log";
import { AllowedTargets, cronForSchedule, DriftWebhookUrl, getSetting, RescanSchedule, setSetting, type RescanScheduleValue } from "../settings";
import { SYSTEM_ACTOR, type Actor } from "../auth/actor";
import { getBoss, QUEUES } from "./queue";
import { createScanJob, scheduledScanInProgress, ScanError } from "./scans";

/** Makes pg-boss's schedule match the setting. Returns the cron applied (null: off). */
export async function applyRescanSchedule(schedule?: RescanScheduleValue): Promise<string | null> {
  const value = schedule ?? (await getSetting("rescanSchedule"));
  const cron = cronForSchedule(value);
  const boss = await getBoss();
  if (cron === null) {
    await boss.unschedule(QUEUES.scheduler);
    return null;
  }
  try {
    // UTC: "daily" means the same instant for every worker, whatever their machine's zone.
    await boss.schedule(QUEUES.scheduler, cron, {}, { tz: "UTC" });
  } catch (err) {
    throw new ScanError(`pg-boss refused the schedule "${cron}": ${err instanceof Error ? err.message : String(err)}`);
  }
  return cron;
}

/**
 * Applies the schedule to pg-boss first (its cron parser is the judge of a custom expression),
 * then stores it with its audit event; a refused expression leaves schedule and setting as they were.
 */
export async function setRescanSchedule(actor: Actor, schedule: unknown): Promise<string | null> {
  const value = RescanSchedule.parse(schedule);
  const previous = await getSetting("rescanSchedule");
  const cron = await applyRescanSchedule(value);
  try {
    await setSetting(actor, "rescanSchedule", value);
  } catch (err) {
    await applyRescanSchedule(previous).catch((e: unknown) => logger.error({ err: e }, "could not restore the previous rescan schedule"));
    throw err;
  }
  return cron;
}

/** What the scheduled-rescan message does: one scan of every host, unless the last one still runs. */
export async function runScheduledRescan(): Promise<{ jobId: string | null; reason?: string }> {
  if (await scheduledScanInProgress()) {
    logger.info("scheduled rescan skipped: the previous scheduled scan is still running");
    return { jobId: null, reason: "previous scheduled scan still running" };
  }
  try {
    const { jobId, taskCount } = await createScanJob(SYSTEM_ACTOR, { all: true }, { origin: "schedule" });
    logger.info({ jobId, hosts: taskCount }, "scheduled rescan created");
    return { jobId };
  } catch (err) {
    if (err instanceof ScanError) {
      logger.info({ reason: err.message }, "scheduled rescan skipped");
      return { jobId: null, reason: err.message };
    }
    throw err;
  }
}

/** The Settings > Scans form: text as typed, validated here with the settings' own schemas. */
export const ScanSettingsInput = z.object({
  rescanSchedule: RescanSchedule,
  // Empty means "no webhook".
  driftWebhookUrl: z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? null : v), DriftWebhookUrl),
  // One entry per line or comma separated, as admins paste them.
  allowedTargets: z.preprocess((v) => (typeof v === "string" ? v.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean) : v), AllowedTargets),
});

/** Saves what changed (one audit event per changed setting) and applies the schedule to pg-boss. */
export async function updateScanSettings(actor: Actor, raw: z.input<typeof ScanSettingsInput>): Promise<{ changed: string[]; cron: string | null }> {
  const input = ScanSettingsInput.parse(raw);
  const changed: string[] = [];
  const [schedule, webhook, targets] = await Promise.all([getSetting("rescanSchedule"), getSetting("driftWebhookUrl"), getSetting("allowedTargets")]);
  if (webhook !== input.driftWebhookUrl) {
    await setSetting(actor, "driftWebhookUrl", input.driftWebhookUrl);
    changed.push("driftWebhookUrl");
  }
  if (JSON.stringify(targets) !== JSON.stringify(input.allowedTargets)) {
    await setSetting(actor, "allowedTargets", input.allowedTargets);
    changed.push("allowedTargets");
  }
  let cron = cronForSchedule(schedule);
  if (schedule !== input.rescanSchedule) {
    cron = await setRescanSchedule(actor, input.rescanSchedule);
    changed.push("rescanSchedule");
  }
  return { changed, cron };
}
