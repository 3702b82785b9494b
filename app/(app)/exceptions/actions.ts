"use server";
// The exception workflow from the UI: an operator requests (host page), an admin other than the
// requester approves or rejects, an admin revokes (host page or the Exceptions page).
import { authorizedAction } from "@/lib/auth/guard";
import { ExceptionDecisionInput, ExceptionRequestInput } from "@/lib/exceptions/model";
import { approveException, rejectException, requestException, revokeException } from "@/lib/exceptions/service";

const revalidate = ["/exceptions", "/hosts", "/"];

export const requestExceptionAction = authorizedAction("exceptions.request", ExceptionRequestInput, async (input, user) => void (await requestException(user, input)), {
  revalidate,
  success: "Exception requested: it counts once an admin (not you) approves it",
});

export const approveExceptionAction = authorizedAction("exceptions.approve", ExceptionDecisionInput, async (input, user) => void (await approveException(user, input.id)), {
  revalidate,
  success: "Exception approved: the host's status was recomputed",
});

export const rejectExceptionAction = authorizedAction("exceptions.approve", ExceptionDecisionInput, async (input, user) => void (await rejectException(user, input.id, input.note)), {
  revalidate,
  success: "Exception rejected",
});

export const revokeExceptionAction = authorizedAction("exceptions.approve", ExceptionDecisionInput, async (input, user) => void (await revokeException(user, input.id, input.note)), {
  revalidate,
  success: "Exception revoked: the host's status was recomputed",
});
