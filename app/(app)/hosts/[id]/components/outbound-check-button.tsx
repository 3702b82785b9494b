"use client";
import { runOutboundCheckAction } from "../actions";
import { JobStartButton } from "./job-start-button";

/** Makes this host send one message to the outbound check sink (an outbound check job of one host). */
export function OutboundCheckButton({ hostId, disabledReason }: { hostId: string; disabledReason?: string }) {
  return (
    <JobStartButton
      label="Check outbound TLS"
      pendingLabel="Starting check…"
      startedText="Outbound check started"
      variant="secondary"
      disabledReason={disabledReason}
      start={() => runOutboundCheckAction({ hostId })}
    />
  );
}
