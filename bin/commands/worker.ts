// `tlsfleet worker`: one job worker. Any number may run, on any machine, against one database.
import { env } from "../../lib/env";

export async function run(argv: string[]): Promise<number> {
  if (argv.length) {
    console.error(`tlsfleet worker: unexpected arguments: ${argv.join(" ")}`);
    return 2;
  }
  if (!env.DATABASE_URL) {
    console.error("tlsfleet worker: DATABASE_URL is not set (run it through `tlsfleet start`, or point it at the database)");
    return 2;
  }
  const { resealCredentialsAtStart } = await import("../../agents/credential-keys");
  await resealCredentialsAtStart();
  const { startWorker } = await import("../../agents/worker");
  const worker = await startWorker();
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      void worker.stop().then(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return 0;
}
