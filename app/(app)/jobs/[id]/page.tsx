import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { z } from "zod";
import { requirePageUser } from "@/lib/auth/guard";
import { can } from "@/lib/auth/roles";
import { getJobSummary, listTasks } from "@/lib/jobs/views";
import { JobLive } from "../components/job-live";
import { formatUtc } from "@/lib/time";

export const metadata: Metadata = { title: "Job" };

export default async function JobPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageUser("read");
  const { id } = await params;
  if (!z.uuid().safeParse(id).success) notFound();
  const job = await getJobSummary(id);
  if (!job) notFound();
  // The first page for the initial paint; the event stream then sends every task and each change.
  const { rows } = await listTasks(id, { limit: 200 });
  return (
    <div className="flex flex-col gap-4">
      <div>
        <Link className="text-sm text-brand-600 underline" href="/jobs">← Jobs</Link>
        <h1 className="mt-1 text-2xl font-semibold">{job.kind === "scan" ? "Scan" : job.kind} of {job.target}</h1>
        <p className="text-sm text-slate-600">
          Requested by {job.requestedBy} at {formatUtc(job.createdAt)}
          {job.maxConcurrency ? ` · up to ${job.maxConcurrency} hosts at a time` : ""}
        </p>
      </div>
      <JobLive initialJob={job} initialTasks={rows} mayCancel={can(user.role, "jobs.cancel")} mayRetry={can(user.role, "scans.run")} />
    </div>
  );
}
