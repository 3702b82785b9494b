// API tokens and event streams against the real database, through the real route handlers (Request
// in, Response out, as Next calls them) and the Settings > API tokens server actions.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { prisma } from "@/lib/db";
import { reloadEnv } from "@/lib/env";
import { hashApiToken } from "@/lib/auth/api-tokens";
import type { SessionUser } from "@/lib/auth/session";
import type { Role } from "@/lib/auth/roles";

const current: { user: SessionUser | null } = { user: null };
vi.mock("@/lib/auth/session", () => ({ getCurrentUser: async () => current.user }));

const suffix = Date.now().toString(36);
const users: Partial<Record<Role, SessionUser>> = {};
const savedEnv = { streams: process.env.TLSFLEET_STREAMS_PER_USER, recheck: process.env.TLSFLEET_STREAM_RECHECK_MS };

beforeAll(async () => {
  for (const role of ["viewer", "operator", "admin"] as const) {
    const u = await prisma.user.create({ data: { email: `tokens-${role}-${suffix}@example.test`, role, passwordHash: "x" } });
    users[role] = { id: u.id, email: u.email, name: null, role, via: "session" };
  }
});

afterAll(async () => {
  await prisma.user.deleteMany({ where: { email: { endsWith: `-${suffix}@example.test` } } });
  process.env.TLSFLEET_STREAMS_PER_USER = savedEnv.streams ?? "";
  process.env.TLSFLEET_STREAM_RECHECK_MS = savedEnv.recheck ?? "";
  if (savedEnv.streams === undefined) delete process.env.TLSFLEET_STREAMS_PER_USER;
  if (savedEnv.recheck === undefined) delete process.env.TLSFLEET_STREAM_RECHECK_MS;
  reloadEnv();
});

async function mint(as: Role, input: { name: string; scope: string; expiresInDays: string | number }) {
  const { mintApiTokenAction } = await import("@/app/(app)/settings/api-tokens/actions");
  current.user = users[as]!;
  const res = await mintApiTokenAction(input as never);
  current.user = null;
  return res as { ok: true; data: { id: string; token: string; prefix: string } } | { ok: false; error: string; status: number; fieldErrors?: Record<string, string[]> };
}

async function revoke(as: Role, tokenId: string) {
  const { revokeApiTokenAction } = await import("@/app/(app)/settings/api-tokens/actions");
  current.user = users[as]!;
  const res = await revokeApiTokenAction({ tokenId });
  current.user = null;
  return res;
}

const bearer = (token: string, init: RequestInit & { url?: string } = {}) =>
  new Request(`http://localhost${init.url ?? "/api/v1/hosts"}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers as Record<string, string>) } });
const noParams = { params: Promise.resolve({}) };

describe("minting", () => {
  it("shows the token once, stores only its hash, and audits the mint", async () => {
    const res = await mint("operator", { name: "nightly export", scope: "operate", expiresInDays: "30" });
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.data.token).toMatch(/^tfl_[0-9a-f]{8}_[A-Za-z0-9_-]{32}$/);
    const row = await prisma.apiToken.findUniqueOrThrow({ where: { id: res.data.id } });
    expect(row.tokenHash).toBe(hashApiToken(res.data.token));
    expect(JSON.stringify(row)).not.toContain(res.data.token.slice(14));
    expect(row.scopes).toEqual(["operate"]);
    expect(row.expiresAt!.getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const audit = await prisma.auditEvent.findFirstOrThrow({ where: { action: "api_token.mint", target: `api-token:${res.data.prefix}` } });
    expect(audit.actor).toBe(users.operator!.email);
    expect(JSON.stringify(audit.details)).not.toContain(res.data.token.slice(14));
  });

  it("never gives a token more than its owner's role", async () => {
    const res = await mint("operator", { name: "too much", scope: "admin", expiresInDays: "never" });
    expect(res).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/cannot give a token the admin scope/) });
    const viewer = await mint("viewer", { name: "too much", scope: "operate", expiresInDays: 7 });
    expect(viewer).toMatchObject({ ok: false, status: 400 });
    expect(await prisma.apiToken.count({ where: { name: "too much" } })).toBe(0);
  });

  it("refuses an unknown scope and an expiry out of range, by field", async () => {
    expect(await mint("admin", { name: "x", scope: "root", expiresInDays: 7 })).toMatchObject({ ok: false, status: 400, fieldErrors: { scope: expect.any(Array) } });
    expect(await mint("admin", { name: "x", scope: "read", expiresInDays: 1000 })).toMatchObject({ ok: false, status: 400, fieldErrors: { expiresInDays: expect.any(Array) } });
  });
});

describe("using a token", () => {
  it("acts with its scope on every route, and records when it was last used at most once a minute", async () => {
    const { GET, POST } = await import("@/app/api/v1/hosts/route");
    const res = await mint("admin", { name: `reader ${suffix}`, scope: "read", expiresInDays: 7 });
    if (!res.ok) throw new Error(res.error);
    expect((await GET(bearer(res.data.token), noParams)).status).toBe(200);
    const refused = await POST(bearer(res.data.token, { method: "POST", body: "{}" }), noParams);
    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(await refused.json()).toMatchObject({ type: "urn:tlsfleet:problem:forbidden", status: 403, error: expect.stringMatching(/acts as viewer.*needs operator/) });

    const lastUsed = async () => (await prisma.apiToken.findUniqueOrThrow({ where: { id: res.data.id } })).lastUsedAt;
    expect(await lastUsed()).not.toBeNull();
    // Used 30 s ago: not written again. Used 2 min ago: written.
    const recent = new Date(Date.now() - 30_000);
    await prisma.apiToken.update({ where: { id: res.data.id }, data: { lastUsedAt: recent } });
    expect((await GET(bearer(res.data.token), noParams)).status).toBe(200);
    expect(await lastUsed()).toEqual(recent);
    const old = new Date(Date.now() - 120_000);
    await prisma.apiToken.update({ where: { id: res.data.id }, data: { lastUsedAt: old } });
    expect((await GET(bearer(res.data.token), noParams)).status).toBe(200);
    expect((await lastUsed())!.getTime()).toBeGreaterThan(old.getTime() + 60_000);
  });

  it("is capped at use time when its owner's role is lowered, and refused when the owner is disabled", async () => {
    const { GET, POST } = await import("@/app/api/v1/hosts/route");
    const owner = await prisma.user.create({ data: { email: `tokens-demoted-${suffix}@example.test`, role: "operator", passwordHash: "x" } });
    const operator = users.operator!;
    users.operator = { ...operator, id: owner.id, email: owner.email };
    const res = await mint("operator", { name: "demoted", scope: "operate", expiresInDays: 7 });
    users.operator = operator;
    if (!res.ok) throw new Error(res.error);
    // An invalid host body: an operator's token gets the validation answer (allowed), a viewer's 403.
    expect((await POST(bearer(res.data.token, { method: "POST", body: "{}" }), noParams)).status).toBe(400);
    await prisma.user.update({ where: { id: owner.id }, data: { role: "viewer" } });
    expect((await POST(bearer(res.data.token, { method: "POST", body: "{}" }), noParams)).status).toBe(403);
    expect((await GET(bearer(res.data.token), noParams)).status).toBe(200);
    await prisma.user.update({ where: { id: owner.id }, data: { disabledAt: new Date() } });
    const disabled = await GET(bearer(res.data.token), noParams);
    expect(disabled.status).toBe(401);
    expect(await disabled.json()).toMatchObject({ type: "urn:tlsfleet:problem:unauthenticated", error: "Sign in or send an API token" });
  });

  it("is refused once expired", async () => {
    const { GET } = await import("@/app/api/v1/hosts/route");
    const res = await mint("viewer", { name: "short-lived", scope: "read", expiresInDays: 1 });
    if (!res.ok) throw new Error(res.error);
    await prisma.apiToken.update({ where: { id: res.data.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await GET(bearer(res.data.token), noParams)).status).toBe(401);
  });
});

describe("revoking and listing", () => {
  it("lets the owner and admins revoke, nobody else; revoked tokens get 401; both audited", async () => {
    const { GET } = await import("@/app/api/v1/hosts/route");
    const res = await mint("viewer", { name: `mine ${suffix}`, scope: "read", expiresInDays: 30 });
    if (!res.ok) throw new Error(res.error);
    expect(await revoke("operator", res.data.id)).toMatchObject({ ok: false, status: 400, error: "No such API token" });
    expect((await GET(bearer(res.data.token), noParams)).status).toBe(200);
    expect(await revoke("admin", res.data.id)).toMatchObject({ ok: true });
    expect((await GET(bearer(res.data.token), noParams)).status).toBe(401);
    const audit = await prisma.auditEvent.findFirstOrThrow({ where: { action: "api_token.revoke", target: `api-token:${res.data.prefix}` } });
    expect(audit).toMatchObject({ actor: users.admin!.email, details: { owner: users.viewer!.email } });

    const own = await mint("viewer", { name: `own ${suffix}`, scope: "read", expiresInDays: 30 });
    if (!own.ok) throw new Error(own.error);
    expect(await revoke("viewer", own.data.id)).toMatchObject({ ok: true });
  });

  it("shows admins every token and everyone else their own", async () => {
    const { listApiTokens } = await import("@/lib/auth/api-tokens");
    const mine = await listApiTokens(users.viewer!);
    expect(mine.length).toBeGreaterThan(0);
    expect(new Set(mine.map((t) => t.ownerEmail))).toEqual(new Set([users.viewer!.email]));
    const all = await listApiTokens(users.admin!);
    expect(all.map((t) => t.ownerEmail)).toEqual(expect.arrayContaining([users.viewer!.email, users.admin!.email]));
    expect(mine.find((t) => t.name === `mine ${suffix}`)).toMatchObject({ actsAs: null, revokedAt: expect.any(Date) });
  });
});

interface StreamEnd {
  events: string[];
  last: { event: string; data: string } | undefined;
}

/** Reads an event stream until the server closes it. */
async function readToEnd(res: Response): Promise<StreamEnd> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
  }
  const blocks = text.split("\n\n").filter((b) => /^event: /m.test(b));
  const parsed = blocks.map((b) => ({ event: /^event: (.*)$/m.exec(b)![1]!, data: /^data: (.*)$/m.exec(b)?.[1] ?? "" }));
  return { events: parsed.map((p) => p.event), last: parsed[parsed.length - 1] };
}

describe("event streams", () => {
  let jobId = "";
  beforeAll(async () => {
    // A running job with no tasks: its stream stays open until the server closes it.
    const job = await prisma.job.create({ data: { kind: "scan", state: "running", target: { hostIds: [] }, parameters: {} } });
    jobId = job.id;
  });
  afterAll(async () => {
    await prisma.job.deleteMany({ where: { id: jobId } });
  });

  const events = async (req: Request) => (await import("@/app/api/v1/jobs/[id]/events/route")).GET(req, { params: Promise.resolve({ id: jobId }) });

  it("caps the streams one user holds open; the next one gets 429 until one closes", async () => {
    process.env.TLSFLEET_STREAMS_PER_USER = "2";
    reloadEnv();
    const res = await mint("viewer", { name: "streams", scope: "read", expiresInDays: 1 });
    if (!res.ok) throw new Error(res.error);
    const aborts = [new AbortController(), new AbortController()];
    const open = [];
    for (const a of aborts) open.push(await events(bearer(res.data.token, { url: `/api/v1/jobs/${jobId}/events`, signal: a.signal })));
    expect(open.map((r) => r.status)).toEqual([200, 200]);
    const third = await events(bearer(res.data.token, { url: `/api/v1/jobs/${jobId}/events` }));
    expect(third.status).toBe(429);
    expect(third.headers.get("content-type")).toBe("application/problem+json");
    expect(await third.json()).toMatchObject({ type: "urn:tlsfleet:problem:too-many-streams", status: 429, limit: 2 });
    // Another user is not affected by this user's streams.
    current.user = users.admin!;
    const other = await events(new Request(`http://localhost/api/v1/jobs/${jobId}/events`));
    current.user = null;
    expect(other.status).toBe(200);
    await other.body!.cancel();

    aborts[0]!.abort();
    const again = new AbortController();
    const reopened = await events(bearer(res.data.token, { url: `/api/v1/jobs/${jobId}/events`, signal: again.signal }));
    expect(reopened.status).toBe(200);
    again.abort();
    aborts[1]!.abort();
    await Promise.all([...open, reopened].map((r) => r.body!.cancel().catch(() => undefined)));
  });

  it("closes a stream whose token is revoked while it is open", async () => {
    process.env.TLSFLEET_STREAM_RECHECK_MS = "200";
    reloadEnv();
    const res = await mint("viewer", { name: "revoked mid-stream", scope: "read", expiresInDays: 1 });
    if (!res.ok) throw new Error(res.error);
    const stream = await events(bearer(res.data.token, { url: `/api/v1/jobs/${jobId}/events` }));
    expect(stream.status).toBe(200);
    const ended = readToEnd(stream);
    expect(await revoke("viewer", res.data.id)).toMatchObject({ ok: true });
    const { last } = await ended;
    expect(last).toMatchObject({ event: "failure" });
    expect(last!.data).toMatch(/no longer allows this stream/);
  });

  it("closes a stream whose session is signed out while it is open", async () => {
    process.env.TLSFLEET_STREAM_RECHECK_MS = "200";
    reloadEnv();
    const { endSession } = await import("@/lib/users/service");
    const session = await prisma.userSession.create({ data: { userId: users.admin!.id, address: "127.0.0.1", expiresAt: new Date(Date.now() + 3_600_000) } });
    current.user = { ...users.admin!, sessionId: session.id };
    const stream = await events(new Request(`http://localhost/api/v1/jobs/${jobId}/events`));
    current.user = null;
    expect(stream.status).toBe(200);
    const ended = readToEnd(stream);
    await endSession(session.id);
    const { last } = await ended;
    expect(last).toMatchObject({ event: "failure" });
  });
});
