// POST /api/v1/exceptions/:id/revoke: revokes a pending or approved exception {"note"?}; the host gets its real status back.
import { revokeException } from "@/lib/exceptions/service";
import { decisionRoute } from "../../step";

export const POST = decisionRoute("exceptions.approve", "Revoke an exception; the host gets its real status back", (user, id, note) => revokeException(user, id, note));
