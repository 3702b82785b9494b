"use client";
import { runHostAuditAction } from "../actions";
import { JobStartButton } from "./job-start-button";

/** Reads this host's TLS configuration over its transport now (a config audit job of one host). */
export function ConfigAuditButton({ hostId, disabledReason }: { hostId: string; disabledReason?: string }) {
  return (
    <JobStartButton
      label="Run config audit"
      pendingLabel="Starting audit…"
      startedText="Config audit started"
      variant="secondary"
      disabledReason={disabledReason}
      start={() => runHostAuditAction({ hostId })}
    />
  );
}
