// GET/PATCH/DELETE /api/v1/hosts/:id. PATCH takes any subset of the host fields; the merged host
// is validated as a whole, exactly as the edit form is.
import { NextResponse } from "next/server";
import { z } from "zod";
import { authorizedRoute } from "@/lib/auth/guard";
import { deleteHosts, getHost, updateHost } from "@/lib/inventory/hosts";
import { HostInput } from "@/lib/inventory/model";
import { readJson, validationError } from "../http";

const Id = z.uuid();

async function hostId(ctx: { params: Promise<Record<string, string | string[]>> }): Promise<string | null> {
  const { id } = await ctx.params;
  const parsed = Id.safeParse(id);
  return parsed.success ? parsed.data : null;
}

const notFound = () => NextResponse.json({ error: "No such host" }, { status: 404 });

export const GET = authorizedRoute("read", async (_req, _user, ctx) => {
  const id = await hostId(ctx);
  const host = id ? await getHost(id) : null;
  if (!host) return notFound();
  return NextResponse.json(host);
});

export const PATCH = authorizedRoute("hosts.write", async (req, user, ctx) => {
  const id = await hostId(ctx);
  const existing = id ? await getHost(id) : null;
  if (!id || !existing) return notFound();
  const body = await readJson(req);
  if (body instanceof Response) return body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return NextResponse.json({ error: "The body must be a JSON object" }, { status: 400 });
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
  const parsed = HostInput.safeParse({ ...current, ...body });
  if (!parsed.success) return validationError(parsed.error);
  const host = await updateHost(user, id, parsed.data);
  return NextResponse.json({ id: host.id, name: host.name, credentialDropped: host.credentialDropped });
});

export const DELETE = authorizedRoute("hosts.write", async (_req, user, ctx) => {
  const id = await hostId(ctx);
  if (!id) return notFound();
  const deleted = await deleteHosts(user, [id]);
  return deleted ? new Response(null, { status: 204 }) : notFound();
});
