// A worker process for poison-task.test.ts: the real host-task runner (claims, leases, reaper)
// with one scan kind whose handler blocks the event loop for good, as a backtracking RegExp on a
// crafted `nginx -T` dump did. Run as `node --conditions=react-server --import tsx <this file>`
// with DATABASE_URL, TLSFLEET_LEASE_SECONDS and POISON_WORKER_ID set.
import { getBoss, QUEUES } from "../../lib/jobs/queue";
import { startHostTaskRunner, type TaskKind } from "../../agents/tasks/runner";

const blocking: TaskKind = {
  kind: "scan",
  queue: QUEUES.scanTask,
  concurrency: 1,
  run(h) {
    process.stdout.write(`blocking on task ${h.lease.taskId} attempt ${h.lease.attempt}\n`);
    // Never yields: no lease renewal, no signal, nothing but SIGKILL ends this process.
    for (;;) {
      /* spin */
    }
  },
};

void getBoss().then((boss) => {
  startHostTaskRunner(boss, { workerId: process.env.POISON_WORKER_ID ?? "poison-worker", kinds: [blocking], pollIntervalMs: 300 });
  process.stdout.write("ready\n");
});
