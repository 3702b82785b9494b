// Every server action and every route handler, called as signed-out / viewer / operator / admin
// (route handlers: with an API token of every scope for each role, scopes above the owner's role
// included, as a token keeps its scope when its owner is demoted): refused with 401/403 exactly
// when the role table says so. New actions and routes are found by globbing app/, so one that
// skips the guard fails here instead of shipping.
import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { can, ROLES, TOKEN_SCOPES, tokenRole, type Action, type Role, type TokenScope } from "@/lib/auth/roles";
import type { SessionUser } from "@/lib/auth/session";

const ROOT = path.resolve(import.meta.dirname, "../..");

// Server actions read the session through getCurrentUser(); outside a Next request there are no
// cookies, so the test supplies the user. Route handlers below use real API tokens instead.
const current: { user: SessionUser | null } = { user: null };
vi.mock("@/lib/auth/session", () => ({ getCurrentUser: async () => current.user }));

type Who = Role | "signed-out";
const WHO: Who[] = ["signed-out", ...ROLES];

function expectedStatus(who: Who, action: Action): "401" | "403" | "allowed" {
  if (who === "signed-out") return "401";
  return can(who, action) ? "allowed" : "403";
}

const users: Partial<Record<Role, { user: SessionUser; tokens: Record<TokenScope, string> }>> = {};

type Caller = "signed-out" | { role: Role; scope: TokenScope };
const CALLERS: Caller[] = ["signed-out", ...ROLES.flatMap((role) => TOKEN_SCOPES.map((scope) => ({ role, scope })))];
const callerName = (c: Caller) => (c === "signed-out" ? c : `${c.role} with a ${c.scope} token`);

function expectedRouteStatus(caller: Caller, action: Action): "401" | "403" | "allowed" {
  if (caller === "signed-out") return "401";
  return can(tokenRole(caller.role, [caller.scope]), action) ? "allowed" : "403";
}

beforeAll(async () => {
  const { prisma } = await import("@/lib/db");
  const { newApiToken } = await import("@/lib/auth/api-tokens");
  const suffix = Date.now().toString(36);
  for (const role of ROLES) {
    const u = await prisma.user.create({ data: { email: `authz-${role}-${suffix}@example.test`, role, passwordHash: "x" } });
    const tokens = {} as Record<TokenScope, string>;
    for (const scope of TOKEN_SCOPES) {
      const t = newApiToken();
      await prisma.apiToken.create({ data: { name: `authz test ${scope}`, tokenHash: t.tokenHash, prefix: t.prefix, scopes: [scope], ownerId: u.id } });
      tokens[scope] = t.token;
    }
    users[role] = { user: { id: u.id, email: u.email, name: null, role, via: "session" }, tokens };
  }
});

afterAll(async () => {
  const { prisma } = await import("@/lib/db");
  await prisma.user.deleteMany({ where: { email: { startsWith: "authz-" } } });
});

// Node 20 has no fs.globSync: walk app/ for the two file names that can hold handlers.
function filesNamed(dir: string, name: string): string[] {
  return (readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: false }) as string[])
    .filter((f) => path.basename(f) === name)
    .map((f) => path.join(dir, f))
    .sort();
}
const actionFiles = filesNamed("app", "actions.ts");
const routeFiles = filesNamed("app/api", "route.ts").filter((f) => !f.includes("api/auth/") && !f.includes("api/health/"));

describe("server actions", () => {
  it("are found", () => {
    expect(actionFiles.length).toBeGreaterThan(0);
  });

  for (const file of actionFiles) {
    describe(file, () => {
      it("every exported action goes through authorizedAction", async () => {
        const mod = await import(path.join(ROOT, file));
        for (const [name, fn] of Object.entries(mod)) {
          if (typeof fn !== "function") continue;
          expect((fn as { action?: string }).action, `${file} exports ${name} without authorizedAction()`).toBeTypeOf("string");
        }
      });

      for (const who of WHO) {
        it(`as ${who}`, async () => {
          const mod = await import(path.join(ROOT, file));
          current.user = who === "signed-out" ? null : users[who]!.user;
          for (const [name, fn] of Object.entries(mod)) {
            if (typeof fn !== "function") continue;
            const action = (fn as unknown as { action: Action }).action;
            // Input `{}` is invalid for most actions: an allowed caller gets a validation error (400), never 401/403.
            const result = (await (fn as (i: unknown) => Promise<{ ok: boolean; status?: number }>)({})) as { ok: boolean; status?: number };
            const want = expectedStatus(who, action);
            const got = result.ok ? "allowed" : result.status === 401 ? "401" : result.status === 403 ? "403" : "allowed";
            expect(got, `${name} (${action}) as ${who}`).toBe(want);
          }
        });
      }
    });
  }
});

function routePathFor(file: string): string {
  return "/" + file.replace(/^app\//, "").replace(/\/route\.ts$/, "").replace(/\[([^\]]+)\]/g, "00000000-0000-4000-8000-000000000000");
}

describe("route handlers", () => {
  it("are found", () => {
    expect(routeFiles.length).toBeGreaterThan(0);
  });

  for (const file of routeFiles) {
    describe(file, () => {
      for (const who of CALLERS) {
        it(`as ${callerName(who)}`, async () => {
          const mod = await import(path.join(ROOT, file));
          // No session at all: the only credential a request carries here is its API token.
          current.user = null;
          const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => typeof mod[m] === "function");
          expect(methods.length).toBeGreaterThan(0);
          for (const method of methods) {
            const handler = mod[method] as ((req: Request, ctx: unknown) => Promise<Response>) & { action?: Action };
            expect(handler.action, `${method} ${file} is not wrapped in route()`).toBeTypeOf("string");
            const abort = new AbortController();
            const headers: Record<string, string> = { "content-type": "application/json" };
            if (who !== "signed-out") headers.authorization = `Bearer ${users[who.role]!.tokens[who.scope]}`;
            const req = new Request(`http://localhost${routePathFor(file)}`, { method, headers, signal: abort.signal, ...(method === "GET" ? {} : { body: "{}" }) });
            const params = Object.fromEntries([...file.matchAll(/\[([^\]]+)\]/g)].map((m) => [m[1], "00000000-0000-4000-8000-000000000000"]));
            const res = await handler(req, { params: Promise.resolve(params) });
            abort.abort();
            await res.body?.cancel().catch(() => undefined);
            const want = expectedRouteStatus(who, handler.action!);
            const got = res.status === 401 ? "401" : res.status === 403 ? "403" : "allowed";
            expect(got, `${method} ${file} as ${callerName(who)} (status ${res.status})`).toBe(want);
            if (got !== "allowed") expect(res.headers.get("content-type"), `${method} ${file} refusal`).toBe("application/problem+json");
          }
        });
      }
    });
  }
});

// The role table lets any admin call approve; the four-eyes rule is the service's, checked here
// through the real routes with API tokens: the requester is refused whatever their role.
describe("exception approval through the API", () => {
  it("lets an operator request, refuses the operator's and the requesting admin's approval, and accepts another admin's", async () => {
    const { prisma } = await import("@/lib/db");
    const { newApiToken } = await import("@/lib/auth/api-tokens");
    const requestRoute = await import("@/app/api/v1/exceptions/route");
    const approveRoute = await import("@/app/api/v1/exceptions/[id]/approve/route");
    const suffix = Date.now().toString(36);
    const other = await prisma.user.create({ data: { email: `authz-admin2-${suffix}@example.test`, role: "admin", passwordHash: "x" } });
    const t = newApiToken();
    await prisma.apiToken.create({ data: { name: "authz test", tokenHash: t.tokenHash, prefix: t.prefix, scopes: ["admin"], ownerId: other.id } });
    const host = await prisma.host.create({ data: { name: `authz-exc-${suffix}.example.test`, address: "192.0.2.40", status: { create: { status: "unknown", explanation: "Never scanned" } } } }); // address: data only
    const call = async (handler: (req: Request, ctx: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>, token: string, url: string, body: unknown, id?: string) => {
      const res = await handler(new Request(`http://localhost${url}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify(body) }), { params: Promise.resolve<Record<string, string>>(id ? { id } : {}) });
      return { status: res.status, body: (await res.json()) as { id?: string; state?: string; error?: string } };
    };
    const ask = (token: string) => call(requestRoute.POST, token, "/api/v1/exceptions", { hostId: host.id, version: "TLSv1", justification: "legacy scanner, replaced in January", expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
    const approve = (token: string, id: string) => call(approveRoute.POST, token, `/api/v1/exceptions/${id}/approve`, {}, id);

    expect((await ask(users.viewer!.tokens.read)).status).toBe(403);
    const byOperator = await ask(users.operator!.tokens.operate);
    expect(byOperator).toMatchObject({ status: 201, body: { state: "pending" } });
    expect((await approve(users.operator!.tokens.operate, byOperator.body.id!)).status).toBe(403);
    expect(await approve(t.token, byOperator.body.id!)).toMatchObject({ status: 200, body: { state: "approved" } });

    const byAdmin = await ask(users.admin!.tokens.admin);
    const own = await approve(users.admin!.tokens.admin, byAdmin.body.id!);
    expect(own).toMatchObject({ status: 403, body: { error: expect.stringMatching(/another admin must approve/) } });
    expect(await approve(t.token, byAdmin.body.id!)).toMatchObject({ status: 200, body: { state: "approved" } });
    expect(await prisma.auditEvent.count({ where: { action: "exception.approved", target: `host:${host.name}` } })).toBe(2);
  });
});
