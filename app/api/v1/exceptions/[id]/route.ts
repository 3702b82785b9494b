// GET /api/v1/exceptions/:id: one exception with its state and who requested and decided it.
import { NextResponse } from "next/server";
import { authorizedRoute } from "@/lib/auth/guard";
import { getException } from "@/lib/exceptions/service";
import { exceptionIdFrom, exceptionNotFound } from "../http";

export const GET = authorizedRoute("read", async (_req, _user, ctx) => {
  const id = await exceptionIdFrom(ctx);
  const found = id ? await getException(id) : null;
  return found ? NextResponse.json(found) : exceptionNotFound();
});
