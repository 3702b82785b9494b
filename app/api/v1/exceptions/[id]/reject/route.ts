// POST /api/v1/exceptions/:id/reject: rejects a pending exception {"note"?}; refused (403) for the admin who requested it.
import { rejectException } from "@/lib/exceptions/service";
import { decisionRoute } from "../../step";

export const POST = decisionRoute("exceptions.approve", "Reject a pending exception (not the requester)", (user, id, note) => rejectException(user, id, note));
