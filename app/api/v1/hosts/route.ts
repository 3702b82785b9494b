// GET /api/v1/hosts: the host list with the page's query parameters (status, tag, group,
// platform, role, q, sort, dir, cursor, limit), as JSON. POST: create one host.
import { NextResponse } from "next/server";
import { authorizedRoute } from "@/lib/auth/guard";
import { parseHostListParams } from "@/lib/inventory/filter";
import { createHost, listHosts } from "@/lib/inventory/hosts";
import { HostInput } from "@/lib/inventory/model";
import { readJson, validationError } from "./http";

export const GET = authorizedRoute("read", async (req) => {
  const parsed = parseHostListParams(new URL(req.url).searchParams);
  if (!parsed.success) return validationError(parsed.error);
  const page = await listHosts(parsed.data);
  return NextResponse.json(page);
});

export const POST = authorizedRoute("hosts.write", async (req, user) => {
  const body = await readJson(req);
  if (body instanceof Response) return body;
  const parsed = HostInput.safeParse(body);
  if (!parsed.success) return validationError(parsed.error);
  const host = await createHost(user, parsed.data);
  return NextResponse.json({ id: host.id, name: host.name }, { status: 201, headers: { location: `/api/v1/hosts/${host.id}` } });
});
