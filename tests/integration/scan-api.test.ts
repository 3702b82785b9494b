// Addresses outside loopback and the lab (10.x, 1.2.3.4) in this file are data only: parsed, matched or stored, never dialled.
// The scan API and its live event stream, the UI's server actions, and scheduled rescans, against
// the real database, a real worker and real SMTP servers on loopback. Route handlers are called
// as Next calls them (Request in, Response out) with real API tokens.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { prisma } from "@/lib/db";
import { newApiToken } from "@/lib/auth/api-tokens";
import type { SessionUser } from "@/lib/auth/session";
import { getBoss, QUEUES } from "@/lib/jobs/queue";
import { runScheduledRescan, updateScanSettings } from "@/lib/jobs/schedule";
import { getSetting } from "@/lib/settings";
import { forEachEvent, type ParsedEvent } from "../support/event-stream";
import { jobWhenTerminal, makeHost, scanDatabase, startSmtp, startTestWorker, testActor, type LoopbackSmtp } from "./scan-support";

const current: { user: SessionUser | null } = { user: null };
vi.mock("@/lib/auth/session", () => ({ getCurrentUser: async () => current.user }));

scanDatabase("api");

const tokens: Record<"viewer" | "operator" | "admin", string> = { viewer: "", operator: "", admin: "" };
const users: Partial<Record<"viewer" | "operator" | "admin", SessionUser>> = {};
const servers: LoopbackSmtp[] = [];
let stopWorker: (() => Promise<void>) | undefined;
let hostIds: string[] = [];

beforeAll(async () => {
  for (const role of ["viewer", "operator", "admin"] as const) {
    const u = await prisma.user.create({ data: { email: `scan-api-${role}@example.test`, role, passwordHash: "x" } });
    const t = newApiToken();
    await prisma.apiToken.create({ data: { name: "scan api test", tokenHash: t.tokenHash, prefix: t.prefix, scopes: ["admin"], ownerId: u.id } });
    tokens[role] = t.token;
    users[role] = { id: u.id, email: u.email, name: null, role, via: "session" };
  }
  const legacy = await startSmtp({ min: "TLSv1", max: "TLSv1.3" });
  const slow = await startSmtp({ min: "TLSv1.2", max: "TLSv1.3", greetingMs: 1_500 });
  servers.push(legacy, slow);
  hostIds = [
    (await makeHost("api", "127.0.0.1", [{ port: legacy.port }])).id,
    (await makeHost("api", "127.0.0.1", [{ port: slow.port }])).id,
    (await makeHost("api", "127.0.0.1", [{ port: slow.port, service: "submission" }])).id,
  ];
  stopWorker = await startTestWorker("scan-api-test-worker", 8);
});

afterAll(async () => {
  await stopWorker?.();
  await Promise.all(servers.map((s) => s.close()));
});

function request(method: string, url: string, role: keyof typeof tokens | null, body?: unknown, signal?: AbortSignal): Request {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (role) headers.authorization = `Bearer ${tokens[role]}`;
  return new Request(`http://localhost${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
}

const ctx = (id: string) => ({ params: Promise.resolve({ id }) });

type SseEvent = ParsedEvent<{ state: string; counts: Record<string, number>; tasks: Array<{ id: string; hostName: string; state: string; log: string }> }>;

/** Reads a text/event-stream body to its end (or until `stopAfter` returns true). */
async function readEvents(res: Response, stopAfter?: (e: SseEvent) => boolean): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  await forEachEvent<SseEvent["data"]>(res.body!, (e) => {
    events.push(e);
    return stopAfter?.(e) === true;
  });
  return events;
}

describe("POST /api/v1/jobs and the event stream", () => {
  it("starts a scan over the API and streams per-host progress until the job ends", async () => {
    const { POST, GET: list } = await import("@/app/api/v1/jobs/route");
    const { GET: events } = await import("@/app/api/v1/jobs/[id]/events/route");
    const { GET: detail } = await import("@/app/api/v1/jobs/[id]/route");

    expect((await POST(request("POST", "/api/v1/jobs", "viewer", { hostIds }), ctx(""))).status).toBe(403);
    const bad = await POST(request("POST", "/api/v1/jobs", "operator", { hostIds, all: true }), ctx(""));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/exactly one/);

    const created = await POST(request("POST", "/api/v1/jobs", "operator", { hostIds, maxConcurrency: 2 }), ctx(""));
    expect(created.status).toBe(201);
    const { jobId, taskCount } = (await created.json()) as { jobId: string; taskCount: number };
    expect(taskCount).toBe(3);

    const started = Date.now();
    const stream = await events(request("GET", `/api/v1/jobs/${jobId}/events`, "viewer"), ctx(jobId));
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const received = await readEvents(stream);
    const last = received[received.length - 1]!;
    expect(last.event).toBe("end");
    expect(last.data.state).toBe("succeeded");
    expect(last.data.counts).toMatchObject({ queued: 0, running: 0, done: 3, failed: 0, unreachable: 0, cancelled: 0, not_started: 0, total: 3 });
    // Several updates while it ran, with running hosts among them, and every host's final row.
    expect(received.filter((e) => e.event === "progress").length).toBeGreaterThan(1);
    expect(received.some((e) => e.data.counts.running! > 0)).toBe(true);
    const finalRows = new Map<string, { state: string; log: string }>();
    for (const e of received) for (const t of e.data.tasks) finalRows.set(t.id, t);
    expect([...finalRows.values()].map((t) => t.state)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect([...finalRows.values()].some((t) => /-> noncompliant/.test(t.log))).toBe(true);
    console.log(`scan-api: 3 hosts, cap 2, stream ended ${Date.now() - started} ms after the job was created; ${received.length} events`);

    const listed = (await (await list(request("GET", "/api/v1/jobs", "viewer"), ctx(""))).json()) as { rows: Array<{ id: string; requestedBy: string; state: string }> };
    expect(listed.rows[0]).toMatchObject({ id: jobId, requestedBy: "scan-api-operator@example.test", state: "succeeded" });
    const one = (await (await detail(request("GET", `/api/v1/jobs/${jobId}?state=succeeded`, "viewer"), ctx(jobId))).json()) as { job: { counts: { done: number } }; tasks: unknown[] };
    expect(one.job.counts.done).toBe(3);
    expect(one.tasks).toHaveLength(3);
    expect((await detail(request("GET", "/api/v1/jobs/00000000-0000-4000-8000-000000000000", "viewer"), ctx("00000000-0000-4000-8000-000000000000"))).status).toBe(404);
  });

  it("stops polling when the client goes away", async () => {
    const { POST } = await import("@/app/api/v1/jobs/route");
    const { GET: events } = await import("@/app/api/v1/jobs/[id]/events/route");
    const { POST: cancel } = await import("@/app/api/v1/jobs/[id]/cancel/route");
    const created = await POST(request("POST", "/api/v1/jobs", "operator", { hostIds: hostIds.slice(1) }), ctx(""));
    const { jobId } = (await created.json()) as { jobId: string };
    const abort = new AbortController();
    const res = await events(request("GET", `/api/v1/jobs/${jobId}/events`, "viewer", undefined, abort.signal), ctx(jobId));
    const reader = res.body!.getReader();
    await reader.read(); // the retry hint
    abort.abort();
    // The server closes its side: the next read ends instead of waiting for the job.
    const next = await Promise.race([reader.read().then((r) => (r.done ? "closed" : "data")), new Promise((r) => setTimeout(() => r("still open"), 3_000))]);
    expect(["closed", "data"]).toContain(next);
    if (next === "data") expect((await reader.read()).done).toBe(true);

    expect((await cancel(request("POST", `/api/v1/jobs/${jobId}/cancel`, "viewer"), ctx(jobId))).status).toBe(403);
    const cancelled = await cancel(request("POST", `/api/v1/jobs/${jobId}/cancel`, "operator"), ctx(jobId));
    expect(cancelled.status).toBe(200);
    const job = await jobWhenTerminal(jobId, 30_000);
    expect(job.state === "cancelled" || job.state === "succeeded").toBe(true);
  });
});

describe("server actions", () => {
  it("startScanAction starts a scan for the hosts page and returns the job id", async () => {
    const { startScanAction, retryFailedAction } = await import("@/app/(app)/jobs/actions");
    current.user = users.operator!;
    const res = await startScanAction({ hostIds: [hostIds[0]!] });
    expect(res).toMatchObject({ ok: true, data: { jobId: expect.any(String) } });
    const jobId = (res as { data: { jobId: string } }).data.jobId;
    expect((await jobWhenTerminal(jobId)).state).toBe("succeeded");
    const retry = await retryFailedAction({ jobId });
    expect(retry).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/no failed or unreachable hosts/) });
    current.user = users.viewer!;
    expect(await startScanAction({ all: true })).toMatchObject({ ok: false, status: 403 });
    current.user = null;
  });
});

describe("scheduled rescans", () => {
  it("applies the schedule setting to pg-boss and refuses one it cannot parse", async () => {
    const boss = await getBoss();
    const saved = await updateScanSettings(testActor, { rescanSchedule: "daily", driftWebhookUrl: "", allowedTargets: "127.0.0.1/32" });
    expect(saved).toEqual({ changed: ["rescanSchedule"], cron: "0 3 * * *" });
    expect((await boss.getSchedules()).find((s) => s.name === QUEUES.scheduler)).toMatchObject({ cron: "0 3 * * *" });
    await expect(updateScanSettings(testActor, { rescanSchedule: "61 * * * *", driftWebhookUrl: "", allowedTargets: "127.0.0.1/32" })).rejects.toThrow(/refused the schedule/);
    expect(await getSetting("rescanSchedule")).toBe("daily");
    await expect(updateScanSettings(testActor, { rescanSchedule: "daily", driftWebhookUrl: "", allowedTargets: "10.0.0.0/33" })).rejects.toThrow();
    await updateScanSettings(testActor, { rescanSchedule: "off", driftWebhookUrl: "", allowedTargets: "127.0.0.1/32" });
    expect((await boss.getSchedules()).find((s) => s.name === QUEUES.scheduler)).toBeUndefined();
    const audit = await prisma.auditEvent.findMany({ where: { action: "settings.update", target: "setting:rescanSchedule" }, orderBy: { id: "asc" } });
    expect(audit.map((a) => (a.details as { to: unknown }).to)).toEqual(["daily", "off"]);
  });

  it("scans every host, requested by the system, and skips a tick while the last one runs", async () => {
    const first = await runScheduledRescan();
    expect(first.jobId).toEqual(expect.any(String));
    const second = await runScheduledRescan();
    expect(second).toEqual({ jobId: null, reason: "previous scheduled scan still running" });
    const job = await jobWhenTerminal(first.jobId!);
    expect(job.requestedById).toBeNull();
    expect(await prisma.jobTask.count({ where: { jobId: job.id } })).toBe(await prisma.host.count());
    const { getJobSummary } = await import("@/lib/jobs/views");
    expect((await getJobSummary(job.id))?.requestedBy).toBe("system (schedule)");
  });
});