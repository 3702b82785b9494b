// POST /api/v1/rollouts/:id/cancel
import { cancelRollout } from "@/lib/rollout/service";
import { rolloutStepRoute } from "../step";

export const POST = rolloutStepRoute("Cancel a rollout", cancelRollout);
