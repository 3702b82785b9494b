// POST /api/v1/exceptions/:id/revoke: revokes a pending or approved exception {"note"?}; the host gets its real status back.
import { authorizedRoute } from "@/lib/auth/guard";
import { revokeException } from "@/lib/exceptions/service";
import { readJson, validationError } from "../../../jobs/http";
import { DecisionNote, exceptionIdFrom, exceptionNotFound, exceptionStep } from "../../http";

export const POST = authorizedRoute("exceptions.approve", async (req, user, ctx) => {
  const id = await exceptionIdFrom(ctx);
  if (!id) return exceptionNotFound();
  const body = await readJson(req);
  const parsed = DecisionNote.safeParse(typeof body === "symbol" ? {} : body);
  if (!parsed.success) return validationError(parsed.error);
  return exceptionStep(() => revokeException(user, id, parsed.data.note));
});
