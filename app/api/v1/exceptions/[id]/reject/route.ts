// POST /api/v1/exceptions/:id/reject: rejects a pending exception {"note"?}; refused (403) for the admin who requested it.
import { authorizedRoute } from "@/lib/auth/guard";
import { rejectException } from "@/lib/exceptions/service";
import { readJson, validationError } from "../../../jobs/http";
import { DecisionNote, exceptionIdFrom, exceptionNotFound, exceptionStep } from "../../http";

export const POST = authorizedRoute("exceptions.approve", async (req, user, ctx) => {
  const id = await exceptionIdFrom(ctx);
  if (!id) return exceptionNotFound();
  const body = await readJson(req);
  const parsed = DecisionNote.safeParse(typeof body === "symbol" ? {} : body);
  if (!parsed.success) return validationError(parsed.error);
  return exceptionStep(() => rejectException(user, id, parsed.data.note));
});
