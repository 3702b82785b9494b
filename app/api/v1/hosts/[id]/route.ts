// GET/PATCH/DELETE /api/v1/hosts/:id. PATCH takes any subset of the host fields; the merged host
// is validated as a whole, exactly as the edit form is.
import { NextResponse } from "next/server";
import { IdParams, route } from "@/lib/http/route";
import { invalidInput, notFound } from "@/lib/http/problem";
import { deleteHosts, getHost, updateHost } from "@/lib/inventory/hosts";
import { HostInput } from "@/lib/inventory/model";

const NO_SUCH_HOST = "No such host";

export const GET = route({ action: "read", summary: "A host with its endpoints and status", params: IdParams, notFound: NO_SUCH_HOST, responses: { 200: { description: "The host" } } }, async ({ params }) => {
  const host = await getHost(params.id);
  return host ? NextResponse.json(host) : notFound(NO_SUCH_HOST);
});

// Each field sent is checked on its own here; the merged host is checked again below.
const HostPatch = HostInput.partial();

export const PATCH = route(
  {
    action: "hosts.write",
    summary: "Change some of a host's fields",
    params: IdParams,
    notFound: NO_SUCH_HOST,
    body: HostPatch,
    examples: [{ owner: "API team", endpoints: "25/smtp;465/smtps" }],
    responses: { 200: { description: "The host was changed: id, name" } },
  },
  async ({ params: { id }, json, user }) => {
    const existing = await getHost(id);
    // A deleted host is retired: readable (GET, with retiredAt), no longer editable.
    if (!existing || existing.retiredAt) return notFound(NO_SUCH_HOST);
    const current = {
      name: existing.name,
      address: existing.address,
      platform: existing.platform,
      roles: existing.roles,
      tags: existing.tags,
      group: existing.group,
      owner: existing.owner,
      transport: existing.transport,
      port: existing.port,
      credentialName: existing.credential?.name ?? null,
      endpoints: existing.endpoints.map((e) => ({ port: e.port, service: e.service })),
    };
    // Only the fields that were sent replace the current ones (the parsed body has defaults filled in).
    const parsed = HostInput.safeParse({ ...current, ...(json as object) });
    if (!parsed.success) return invalidInput(parsed.error);
    const host = await updateHost(user, id, parsed.data);
    return NextResponse.json({ id: host.id, name: host.name, credentialDropped: host.credentialDropped });
  },
);

export const DELETE = route({ action: "hosts.write", summary: "Delete a host (it is retired: its evidence stays)", params: IdParams, notFound: NO_SUCH_HOST, responses: { 204: { description: "Deleted" } } }, async ({ params: { id }, user }) => {
  const deleted = await deleteHosts(user, [id]);
  return deleted ? new Response(null, { status: 204 }) : notFound(NO_SUCH_HOST);
});
