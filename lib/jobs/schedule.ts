import "server-only";
// Scheduled rescans: the "rescanSchedule" setting becomes a pg-boss schedule on the
// scheduled-rescan queue. pg-boss's clock runs in every started instance and sends one message
// per tick for the whole cluster; any worker picks it up and creates a scan of every host.
import { logger } from "../log";
import { cronForSchedule, getSetting, setSetting, type RescanScheduleValue, type SettingActor } from "../settings";
import { getBoss, QUEUES } from "./queue";
import { createScanJob, scheduledScanInProgress, SYSTEM_ACTOR, ScanError } from "./scans";

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

/** Stores the schedule (audited) and applies it; the setting is only kept if pg-boss accepts it. */
export async function setRescanSchedule(actor: SettingActor, schedule: unknown): Promise<string | null> {
  const previous = await getSetting("rescanSchedule");
  const stored = await setSetting(actor, "rescanSchedule", schedule);
  try {
    return await applyRescanSchedule(stored);
  } catch (err) {
    await setSetting(actor, "rescanSchedule", previous);
    throw err;
  }
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
