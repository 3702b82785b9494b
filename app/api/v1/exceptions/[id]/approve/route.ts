// POST /api/v1/exceptions/:id/approve: approves a pending exception; refused (403) for the admin who requested it.
import { approveException } from "@/lib/exceptions/service";
import { decisionRoute } from "../../step";

export const POST = decisionRoute("exceptions.approve", "Approve a pending exception (not the requester)", (user, id) => approveException(user, id));
