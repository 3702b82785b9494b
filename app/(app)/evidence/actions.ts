"use server";
// Evidence pack requests from the host list and the rollout page; the worker generates them.
import { authorizedAction } from "@/lib/auth/guard";
import { PackRequest, requestEvidencePack } from "@/lib/evidence/packs";

export const requestEvidencePackAction = authorizedAction("export", PackRequest, (input, user) => requestEvidencePack(user, input), {
  revalidate: ["/evidence"],
  success: "Evidence pack requested: it is generated in the background",
});
