// POST /api/v1/jobs/:id/retry-failed: a new attempt for failed and unreachable hosts only.
import { retryFailedTasks } from "@/lib/jobs/scans";
import { jobStepRoute } from "../step";

export const POST = jobStepRoute("scans.run", "Retry a job's failed and unreachable hosts", retryFailedTasks);
