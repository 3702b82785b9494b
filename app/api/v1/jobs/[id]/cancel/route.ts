// POST /api/v1/jobs/:id/cancel: hosts not started are cancelled now, running ones at their next check.
import { cancelJob } from "@/lib/jobs/scans";
import { jobStepRoute } from "../step";

export const POST = jobStepRoute("jobs.cancel", "Cancel a job", cancelJob);
