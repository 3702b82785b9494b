// POST /api/v1/audits: start a config audit of {"hostIds": [...]}, {"filter": {...}} (the host
// list's filter) or {"all": true}; optional "maxConcurrency" (hosts audited at once, default 8).
// The job is followed like any other: GET /api/v1/jobs/:id.
import { NextResponse } from "next/server";
import { z } from "zod";
import { authorizedRoute } from "@/lib/auth/guard";
import { AuditTargetInput, createAuditJob } from "@/lib/jobs/audits";
import { readJson, validationError } from "../jobs/http";

const CreateAudit = z.intersection(z.object({ maxConcurrency: z.number().int().min(1).max(64).optional() }), AuditTargetInput);

export const POST = authorizedRoute("audits.run", async (req, user) => {
  const body = await readJson(req);
  if (typeof body === "symbol") return NextResponse.json({ error: "The body must be JSON" }, { status: 400 });
  const parsed = CreateAudit.safeParse(body);
  if (!parsed.success) return validationError(parsed.error);
  const { maxConcurrency, ...target } = parsed.data;
  const { jobId, taskCount } = await createAuditJob(user, target, { maxConcurrency, origin: "api" });
  return NextResponse.json({ jobId, taskCount, url: `/jobs/${jobId}` }, { status: 201, headers: { location: `/api/v1/jobs/${jobId}` } });
});
