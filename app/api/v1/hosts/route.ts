// GET /api/v1/hosts: the host list with the page's query parameters (status, tag, group,
// platform, role, q, sort, dir, cursor, limit), as JSON. POST: create one host.
import { NextResponse } from "next/server";
import { route } from "@/lib/http/route";
import { hostListRecord, HostListParams } from "@/lib/inventory/filter";
import { createHost, listHosts } from "@/lib/inventory/hosts";
import { HostInput } from "@/lib/inventory/model";

export const GET = route(
  { action: "read", summary: "List hosts with the host list's filter and sort", query: HostListParams, readQuery: hostListRecord, responses: { 200: { description: "A page of hosts: rows, total, nextCursor" } } },
  async ({ query }) => NextResponse.json(await listHosts(query)),
);

export const POST = route(
  {
    action: "hosts.write",
    summary: "Create a host",
    body: HostInput,
    examples: [{ name: "mx1.example.test", address: "192.0.2.10", platform: "linux", roles: ["postfix"], tags: ["api"], endpoints: [{ port: 25, service: "smtp" }] }],
    responses: { 201: { description: "The host was created: id, name; Location names it" } },
  },
  async ({ body, user }) => {
    const host = await createHost(user, body);
    return NextResponse.json({ id: host.id, name: host.name }, { status: 201, headers: { location: `/api/v1/hosts/${host.id}` } });
  },
);
