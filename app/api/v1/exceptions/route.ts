// GET /api/v1/exceptions?state=open|pending|approved|all (default open): exceptions with host,
// scope, justification, expiry, state and who requested and decided. POST: request one
// {"hostId", "endpointPort"?, "version"? ("TLSv1".."TLSv1.3"), "justification", "expiresAt"};
// it counts only once an admin other than the requester approves it.
import { NextResponse } from "next/server";
import { z } from "zod";
import { route } from "@/lib/http/route";
import { ExceptionRequestInput } from "@/lib/exceptions/model";
import { EXCEPTION_LIST_FILTERS, listExceptions, requestException } from "@/lib/exceptions/service";
import { exceptionStep } from "./step";

const ListQuery = z.object({ state: z.enum(EXCEPTION_LIST_FILTERS).default("open") });

export const GET = route({ action: "read", summary: "Exceptions, by state", query: ListQuery, responses: { 200: { description: "exceptions: the list" } } }, async ({ query }) =>
  NextResponse.json({ exceptions: await listExceptions(query.state) }),
);

export const POST = route(
  {
    action: "exceptions.request",
    summary: "Request an exception for a host (optionally one endpoint and one TLS version)",
    body: ExceptionRequestInput,
    examples: [{ hostId: "00000000-0000-4000-8000-000000000000", version: "TLSv1", justification: "Legacy scanner until the Q1 replacement", expiresAt: "2027-03-31T00:00:00Z" }],
    responses: { 201: { description: "The requested exception (pending approval)" } },
  },
  async ({ body, user }) => exceptionStep(() => requestException(user, body), 201),
);
