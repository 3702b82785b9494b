"use client";
import { startScanAction } from "@/app/(app)/jobs/actions";
import { JobStartButton } from "./job-start-button";

/** Probes every endpoint of this host now (a scan job of one host); links to the job to follow it. */
export function ScanButton({ hostId }: { hostId: string }) {
  return <JobStartButton label="Scan this host" pendingLabel="Starting scan…" startedText="Scan started" start={() => startScanAction({ hostIds: [hostId] })} />;
}
