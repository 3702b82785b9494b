// POST /api/v1/rollouts/:id/resume
import { resumeRollout } from "@/lib/rollout/service";
import { rolloutStepRoute } from "../step";

export const POST = rolloutStepRoute("Resume a rollout", resumeRollout);
