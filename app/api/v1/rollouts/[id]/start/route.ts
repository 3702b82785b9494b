// POST /api/v1/rollouts/:id/start
import { startRollout } from "@/lib/rollout/service";
import { rolloutStepRoute } from "../step";

export const POST = rolloutStepRoute("Start a rollout", startRollout);
