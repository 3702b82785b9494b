"use client";
// Start / Pause / Resume / Cancel / Roll back all, as the rollout's state allows. The page decides
// which apply (state and role); the server checks both again under the rollout's lock.
import { useRef, useState } from "react";
import { Alert } from "@/app/_components/ui/alert";
import { Button } from "@/app/_components/ui/button";
import { ConfirmDialog } from "../../hosts/components/confirm-dialog";
import { cancelRolloutAction, pauseRolloutAction, resumeRolloutAction, rollbackRolloutAction, startRolloutAction } from "../actions";
import { plural } from "./format";
import { useRolloutAction } from "./use-rollout-action";

export interface ControlSet {
  start: boolean;
  pause: boolean;
  resume: boolean;
  cancel: boolean;
  /** Hosts "Roll back all" would restore (0: not offered). */
  rollbackAll: number;
}

type Confirming = "cancel" | "rollback" | null;

export function RolloutControls({ rolloutId, controls, changing }: { rolloutId: string; controls: ControlSet; changing: number }) {
  const { pending, message, run } = useRolloutAction();
  const [confirming, setConfirming] = useState<Confirming>(null);
  const trigger = useRef<HTMLElement | null>(null);
  const id = { rolloutId };

  const ask = (what: Exclude<Confirming, null>, e: React.MouseEvent<HTMLButtonElement>) => {
    trigger.current = e.currentTarget;
    setConfirming(what);
  };
  // The dialog is mounted only while open (one per page, its title id unique); focus goes back to
  // the button that opened it.
  const close = () => {
    setConfirming(null);
    requestAnimationFrame(() => trigger.current?.focus());
  };

  return (
    <div className="flex flex-col gap-3">
      <div className="flex flex-wrap gap-2" role="group" aria-label="Rollout controls">
        {controls.start && (
          <Button type="button" disabled={pending} onClick={() => run(() => startRolloutAction(id))}>
            Start rollout ({plural(changing, "host")})
          </Button>
        )}
        {controls.pause && (
          <Button type="button" variant="secondary" disabled={pending} onClick={() => run(() => pauseRolloutAction(id))}>
            Pause
          </Button>
        )}
        {controls.resume && (
          <Button type="button" disabled={pending} onClick={() => run(() => resumeRolloutAction(id))}>
            Resume
          </Button>
        )}
        {controls.cancel && (
          <Button type="button" variant="danger" disabled={pending} onClick={(e) => ask("cancel", e)}>
            Cancel rollout…
          </Button>
        )}
        {controls.rollbackAll > 0 && (
          <Button type="button" variant="danger" disabled={pending} onClick={(e) => ask("rollback", e)}>
            Roll back all changed hosts ({controls.rollbackAll})…
          </Button>
        )}
      </div>
      {message && <Alert kind={message.ok ? "success" : "error"}>{message.text}</Alert>}
      {confirming === "cancel" && (
        <ConfirmDialog open title="Cancel this rollout?" confirmLabel="Cancel rollout" pending={pending} onCancel={close} onConfirm={() => run(() => cancelRolloutAction(id), close)}>
          <p>Hosts not started will not be changed. A host being changed right now finishes its step. Hosts already changed keep their new values; you can roll them back afterwards.</p>
        </ConfirmDialog>
      )}
      {confirming === "rollback" && (
        <ConfirmDialog
          open
          title={`Roll back ${plural(controls.rollbackAll, "host")}?`}
          confirmLabel={`Roll back ${plural(controls.rollbackAll, "host")}`}
          pending={pending}
          onCancel={close}
          onConfirm={() => run(() => rollbackRolloutAction(id), close)}
        >
          <p>Every host this rollout changed gets its exact prior values back, then is checked on the wire. Hosts that needed a restart for the change need one again.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
