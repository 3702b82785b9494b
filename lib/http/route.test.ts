// route(): what it parses and how it answers. Authorization itself (sessions, tokens, scopes) runs
// against PostgreSQL in tests/integration/authz.test.ts; here authorizeRequest answers as it
// documents: a principal, or a refusal with status, type and detail.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { RouteAuthorization } from "../auth/guard";

const auth: { next: RouteAuthorization } = { next: { ok: false, status: 401, type: "x", detail: "x" } };
vi.mock("../auth/guard", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../auth/guard")>()),
  authorizeRequest: async () => auth.next,
}));

const { IdParams, route } = await import("./route");
const { UserFacingError } = await import("../auth/guard");
const { AppError } = await import("../errors");

const operator: RouteAuthorization = {
  ok: true,
  principal: { user: { id: "u1", email: "op@example.test", name: null, role: "operator", via: "api-token" }, stillAllowed: async () => true },
};

const ctx = (params: Record<string, string> = {}) => ({ params: Promise.resolve(params) });
const post = (body: string, url = "http://localhost/api/v1/x") => new Request(url, { method: "POST", headers: { "content-type": "application/json" }, body });

const Body = z.object({ name: z.string().min(1, "Name is required"), count: z.number().int().default(1) });

const echo = route({ action: "hosts.write", summary: "echo", params: IdParams, notFound: "No such thing", body: Body, responses: { 200: { description: "ok" } } }, async ({ params, body, json, user }) =>
  Response.json({ params, body, json, role: user.role }),
);

describe("route()", () => {
  beforeEach(() => {
    auth.next = operator;
  });

  it("exposes its action and declaration for the authorization test and the API document", () => {
    expect(echo.action).toBe("hosts.write");
    expect(echo.spec.summary).toBe("echo");
  });

  it("hands the handler parsed params and body, and the JSON as sent", async () => {
    const id = "00000000-0000-4000-8000-000000000000";
    const res = await echo(post(JSON.stringify({ name: "mx1" })), ctx({ id }));
    expect(await res.json()).toEqual({ params: { id }, body: { name: "mx1", count: 1 }, json: { name: "mx1" }, role: "operator" });
  });

  it("answers a refused authorization as problem+json without running the handler", async () => {
    auth.next = { ok: false, status: 403, type: "urn:tlsfleet:problem:forbidden", detail: "Role viewer may not do this: it needs operator" };
    const res = await echo(post("{}"), ctx({ id: "00000000-0000-4000-8000-000000000000" }));
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ type: "urn:tlsfleet:problem:forbidden", status: 403, error: "Role viewer may not do this: it needs operator" });
  });

  it("answers 404 for path parameters that cannot name anything", async () => {
    const res = await echo(post("{}"), ctx({ id: "not-a-uuid" }));
    expect(res.status).toBe(404);
    expect((await res.json()).error).toBe("No such thing");
  });

  it("refuses a body that is not JSON, and one that does not parse, with field errors", async () => {
    const id = "00000000-0000-4000-8000-000000000000";
    const notJson = await echo(post("{nope"), ctx({ id }));
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ type: "urn:tlsfleet:problem:invalid-input", error: "The body must be JSON" });
    const invalid = await echo(post(JSON.stringify({ name: "" })), ctx({ id }));
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: "Name is required", fieldErrors: { name: ["Name is required"] }, errors: [{ pointer: "#/name", detail: "Name is required" }] });
  });

  it("reads an empty body as {} only where the route says so", async () => {
    const optional = route({ action: "read", summary: "s", body: z.object({ hostIds: z.array(z.string()).optional() }), bodyOptional: true, responses: {} }, async ({ body }) => Response.json(body));
    expect(await (await optional(post(""), ctx())).json()).toEqual({});
    const required = route({ action: "read", summary: "s", body: z.object({}), responses: {} }, async () => new Response(null, { status: 204 }));
    expect((await required(post(""), ctx())).status).toBe(400);
  });

  it("parses the query, with the route's own reader when it has one", async () => {
    const Query = z.object({ limit: z.coerce.number().int().max(10).default(5), status: z.string().optional() });
    const plain = route({ action: "read", summary: "s", query: Query, responses: {} }, async ({ query }) => Response.json(query));
    expect(await (await plain(new Request("http://localhost/x?limit=3&status=a&status=b"), ctx())).json()).toEqual({ limit: 3, status: "b" });
    const bad = await plain(new Request("http://localhost/x?limit=99"), ctx());
    expect(bad.status).toBe(400);
    expect((await bad.json()).title).toBe("Invalid request query");
    const joined = route({ action: "read", summary: "s", query: Query, readQuery: (p) => ({ status: p.getAll("status").join(",") }), responses: {} }, async ({ query }) => Response.json(query));
    expect(await (await joined(new Request("http://localhost/x?status=a&status=b"), ctx())).json()).toEqual({ limit: 5, status: "a,b" });
  });

  it("refuses a raw body over its limit with 413, also when Content-Length promised more than arrived", async () => {
    const csv = route({ action: "hosts.write", summary: "s", rawBody: { contentType: "text/csv", maxBytes: 8, tooLarge: "The file is too large" }, responses: {} }, async ({ raw }) => Response.json({ bytes: raw.byteLength }));
    expect(await (await csv(post("a,b\r\n"), ctx())).json()).toEqual({ bytes: 5 });
    const big = await csv(post("0123456789"), ctx());
    expect(big.status).toBe(413);
    expect((await big.json()).error).toBe("The file is too large");
    const cut = new Request("http://localhost/x", { method: "POST", headers: { "content-length": "6" }, body: "abc" });
    expect((await csv(cut, ctx())).status).toBe(413);
  });

  it("hands a streamed raw body over unread, refusing a Content-Length over its limit with 413", async () => {
    const csv = route({ action: "hosts.write", summary: "s", rawBody: { contentType: "text/csv", maxBytes: 8, tooLarge: "The file is too large", stream: true }, responses: {} }, async ({ raw, bodyStream }) =>
      Response.json({ raw: raw.byteLength, streamed: bodyStream ? await new Response(bodyStream).text() : null }),
    );
    expect(await (await csv(post("a,b\r\n"), ctx())).json()).toEqual({ raw: 0, streamed: "a,b\r\n" });
    const declared = new Request("http://localhost/x", { method: "POST", headers: { "content-length": "9" }, body: "0123456789" });
    const big = await csv(declared, ctx());
    expect(big.status).toBe(413);
    expect((await big.json()).error).toBe("The file is too large");
  });

  it("answers a user-facing error with its message (400) and anything else with an error id (500)", async () => {
    const failing = (err: Error) => route({ action: "read", summary: "s", responses: {} }, async () => Promise.reject(err));
    const user = await failing(new UserFacingError("Host key for mx1 changed"))(new Request("http://localhost/x"), ctx());
    expect(user.status).toBe(400);
    expect((await user.json()).error).toBe("Host key for mx1 changed");
    // Any domain's AppError (lib/errors.ts) is written for the user too.
    class DomainError extends AppError {}
    const domain = await failing(new DomainError("No hosts match that filter"))(new Request("http://localhost/x"), ctx());
    expect(domain.status).toBe(400);
    expect((await domain.json()).error).toBe("No hosts match that filter");
    const internal = await failing(new Error("connection string postgres://secret"))(new Request("http://localhost/x"), ctx());
    expect(internal.status).toBe(500);
    const body = await internal.json();
    expect(body.error).toMatch(/^Internal error \(id [0-9a-f]{8}\)$/);
    expect(JSON.stringify(body)).not.toContain("secret");
  });
});
