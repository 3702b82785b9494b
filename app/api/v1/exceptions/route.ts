// GET /api/v1/exceptions?state=open|pending|approved|all (default open): exceptions with host,
// scope, justification, expiry, state and who requested and decided. POST: request one
// {"hostId", "endpointPort"?, "version"? ("TLSv1".."TLSv1.3"), "justification", "expiresAt"};
// it counts only once an admin other than the requester approves it.
import { NextResponse } from "next/server";
import { z } from "zod";
import { authorizedRoute } from "@/lib/auth/guard";
import { ExceptionRequestInput } from "@/lib/exceptions/model";
import { EXCEPTION_LIST_FILTERS, listExceptions, requestException } from "@/lib/exceptions/service";
import { readJson, validationError } from "../jobs/http";
import { exceptionStep } from "./http";

const ListQuery = z.object({ state: z.enum(EXCEPTION_LIST_FILTERS).default("open") });

export const GET = authorizedRoute("read", async (req) => {
  const parsed = ListQuery.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!parsed.success) return validationError(parsed.error);
  return NextResponse.json({ exceptions: await listExceptions(parsed.data.state) });
});

export const POST = authorizedRoute("exceptions.request", async (req, user) => {
  const body = await readJson(req);
  if (typeof body === "symbol") return NextResponse.json({ error: "The body must be JSON" }, { status: 400 });
  const parsed = ExceptionRequestInput.safeParse(body);
  if (!parsed.success) return validationError(parsed.error);
  return exceptionStep(() => requestException(user, parsed.data), 201);
});
