// POST /api/v1/rollouts/:id/pause
import { pauseRollout } from "@/lib/rollout/service";
import { rolloutStepRoute } from "../step";

export const POST = rolloutStepRoute("Pause a rollout", pauseRollout);
