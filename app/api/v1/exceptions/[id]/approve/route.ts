// POST /api/v1/exceptions/:id/approve: approves a pending exception; refused (403) for the admin who requested it.
import { authorizedRoute } from "@/lib/auth/guard";
import { approveException } from "@/lib/exceptions/service";
import { exceptionIdFrom, exceptionNotFound, exceptionStep } from "../../http";

export const POST = authorizedRoute("exceptions.approve", async (_req, user, ctx) => {
  const id = await exceptionIdFrom(ctx);
  if (!id) return exceptionNotFound();
  return exceptionStep(() => approveException(user, id));
});
