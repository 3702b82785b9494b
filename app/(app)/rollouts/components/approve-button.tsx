"use client";
import { Alert } from "@/app/_components/ui/alert";
import { Button } from "@/app/_components/ui/button";
import { approveRolloutAction } from "../actions";
import { plural } from "./format";
import { useRolloutAction } from "./use-rollout-action";

/**
 * Approves the plan this page showed: it sends the hash the page was rendered with, so a plan
 * that changed since (re-planned, edited) is refused instead of approved unseen.
 */
export function ApproveButton({ rolloutId, planHash, changing }: { rolloutId: string; planHash: string; changing: number }) {
  const { pending, message, run } = useRolloutAction();
  return (
    <div className="flex flex-col items-start gap-2">
      <Button type="button" disabled={pending} onClick={() => run(() => approveRolloutAction({ rolloutId, planHash }))} aria-describedby="approve-help">
        {pending ? "Approving…" : `Approve this plan (${plural(changing, "host")})`}
      </Button>
      <p id="approve-help" className="text-xs text-slate-600">
        You approve exactly the changes listed below (plan <code className="font-mono">{planHash.slice(0, 12)}</code>). Nothing changes until an operator starts the rollout.
      </p>
      {message && <Alert kind={message.ok ? "success" : "error"}>{message.text}</Alert>}
    </div>
  );
}
