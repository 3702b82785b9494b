// pg-boss on the same Postgres: the durable queue between the web app (which enqueues) and any
// number of worker processes (which execute). One pg-boss job per host task, so retries and
// crash recovery are per host.
import PgBoss from "pg-boss";
import { env } from "../env";

export const QUEUES = {
  scanTask: "scan-task",
  auditTask: "audit-task",
  scheduler: "scheduled-rescan",
} as const;

let boss: PgBoss | undefined;
let starting: Promise<PgBoss> | undefined;

export function getBoss(): Promise<PgBoss> {
  if (boss) return Promise.resolve(boss);
  starting ??= (async () => {
    if (!env.DATABASE_URL) throw new Error("DATABASE_URL is not set");
    const b = new PgBoss({ connectionString: env.DATABASE_URL, schema: "pgboss", max: 4, application_name: "tlsfleet" });
    b.on("error", (err) => console.error("pg-boss:", err.message));
    await b.start();
    for (const name of Object.values(QUEUES)) await b.createQueue(name);
    boss = b;
    return b;
  })();
  return starting;
}

export async function stopBoss(): Promise<void> {
  const b = boss;
  boss = undefined;
  starting = undefined;
  if (b) await b.stop({ graceful: true, timeout: 10_000 });
}
