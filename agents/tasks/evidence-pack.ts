// The evidence-pack job: one pg-boss message per pack (lib/evidence/packs.ts requests it), run
// to the end by lib/evidence/pack-run.ts. Not a host task: a pack reads stored evidence only and
// talks to no host, so it has no per-host lease; a worker that dies mid-pack leaves the message
// to expire and be retried, and the pack starts over.
import type PgBoss from "pg-boss";
import { QUEUES } from "../../lib/jobs/queue";
import { logger } from "../../lib/log";
import { PackMessage } from "../../lib/evidence/packs";
import { runEvidencePack } from "../../lib/evidence/pack-run";

export async function startEvidencePackWorker(boss: PgBoss): Promise<{ stop(): Promise<void> }> {
  await boss.work(QUEUES.evidencePack, async (jobs) => {
    for (const job of jobs) {
      const msg = PackMessage.safeParse(job.data);
      if (!msg.success) {
        logger.warn({ data: job.data }, "evidence-pack message without a pack id; dropped");
        continue;
      }
      const result = await runEvidencePack(msg.data.packId);
      logger.info({ packId: msg.data.packId, result }, "evidence pack");
    }
  });
  return { stop: () => boss.offWork(QUEUES.evidencePack) };
}
