"use client";
import { useRef, useState } from "react";
import { Alert } from "@/app/_components/ui/alert";
import { Button } from "@/app/_components/ui/button";
import { ConfirmDialog } from "../../hosts/components/confirm-dialog";
import { rollbackRolloutAction } from "../actions";
import { useRolloutAction } from "./use-rollout-action";

/** Restores one host's prior values (its rollback point), after a confirmation. */
export function HostRollbackButton({ rolloutId, hostId, hostName }: { rolloutId: string; hostId: string; hostName: string }) {
  const { pending, message, run } = useRolloutAction();
  const [confirming, setConfirming] = useState(false);
  const trigger = useRef<HTMLElement | null>(null);
  const close = () => {
    setConfirming(false);
    requestAnimationFrame(() => trigger.current?.focus());
  };
  return (
    <div className="flex flex-col items-start gap-1">
      <Button
        type="button"
        variant="secondary"
        disabled={pending}
        aria-label={`Roll back ${hostName}`}
        onClick={(e) => {
          trigger.current = e.currentTarget;
          setConfirming(true);
        }}
      >
        Roll back
      </Button>
      {message && <Alert kind={message.ok ? "success" : "error"}>{message.text}</Alert>}
      {confirming && (
        <ConfirmDialog open title={`Roll back ${hostName}?`} confirmLabel={`Roll back ${hostName}`} pending={pending} onCancel={close} onConfirm={() => run(() => rollbackRolloutAction({ rolloutId, hostIds: [hostId] }), close)}>
          <p>{hostName} gets the exact values it had before this rollout, then is checked on the wire.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
