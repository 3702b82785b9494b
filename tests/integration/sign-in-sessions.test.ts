// Sign-in limits and server-side sessions against real PostgreSQL (docs/security.md "Sign-in and
// sessions"). The same limits through the real HTTP server: tests/e2e/sign-in-limits.spec.ts.
import { beforeAll, describe, expect, it } from "vitest";
import type { JWT } from "next-auth/jwt";
import { reloadEnv } from "@/lib/env";

const PASSWORD = "correct-horse-battery-1";
const suffix = Date.now().toString(36);
let n = 0;
const email = (label: string) => `signin-${label}-${suffix}-${n++}@example.test`;

beforeAll(() => {
  // Room for every check the parallel tests start; the busy path is tested with the limit full.
  process.env.TLSFLEET_PASSWORD_WORK_QUEUE = "100";
  process.env.TLSFLEET_PASSWORD_WORK_WAIT_MS = "60000";
  process.env.TLSFLEET_PASSWORD_WORK_CONCURRENCY = "2";
  reloadEnv();
});

async function makeUser(label: string, role: "viewer" | "operator" | "admin" = "viewer") {
  const { prisma } = await import("@/lib/db");
  const { hashPassword } = await import("@/lib/auth/passwords");
  const address = email(label);
  const user = await prisma.user.create({ data: { email: address, role, passwordHash: await hashPassword(PASSWORD) } });
  return { id: user.id, email: address, role };
}

async function auditActions(target: string) {
  const { prisma } = await import("@/lib/db");
  return (await prisma.auditEvent.findMany({ where: { OR: [{ target }, { actor: target.replace(/^user:/, "") }] }, orderBy: { id: "asc" } })).map((e) => e.action);
}

describe("sign-in limits", () => {
  it("lets exactly 5 of 20 parallel wrong passwords from one address reach the password check", async () => {
    const { verifySignIn } = await import("@/lib/users/service");
    const victim = await makeUser("parallel");
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => verifySignIn(victim.email, `wrong-${i}`, "127.0.0.1")));
    expect(results.filter((r) => !r.ok && r.reason === "invalid")).toHaveLength(5);
    expect(results.filter((r) => !r.ok && r.reason === "throttled")).toHaveLength(15);
    // The right password is refused too while the account+address is locked.
    expect(await verifySignIn(victim.email, PASSWORD, "127.0.0.1")).toMatchObject({ ok: false, reason: "throttled" });
    const actions = await auditActions(`user:${victim.email}`);
    expect(actions.filter((a) => a === "auth.login_failed")).toHaveLength(5);
    // Refusals are audited when a lock starts (then one in 25), not one event each: here when the
    // address counter passed 5, and when the last attempt (the 21st) passed the account's 20.
    expect(actions.filter((a) => a === "auth.login_throttled")).toHaveLength(2);
  });

  it("limits one account to 20 attempts per window however many addresses guess", async () => {
    const { verifySignIn } = await import("@/lib/users/service");
    const victim = await makeUser("spread");
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => verifySignIn(victim.email, `wrong-${i}`, `198.18.7.${i + 1}`)));
    expect(results.map((r) => (r.ok ? "ok" : r.reason)).sort().join(",")).toBe([...Array(20).fill("invalid"), ...Array(4).fill("throttled")].join(","));
    const throttled = results.filter((r) => !r.ok && r.reason === "throttled");
    expect(throttled).toHaveLength(4);
    expect(throttled[0]).toMatchObject({ retryAfterSeconds: expect.any(Number) });
    expect((throttled[0] as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(800);
  });

  it("keeps other accounts signing in from the same address", async () => {
    const { verifySignIn } = await import("@/lib/users/service");
    const victim = await makeUser("flooded");
    const other = await makeUser("bystander");
    await Promise.all(Array.from({ length: 8 }, (_, i) => verifySignIn(victim.email, `wrong-${i}`, "127.0.0.1")));
    expect(await verifySignIn(other.email, PASSWORD, "127.0.0.1")).toMatchObject({ ok: true, user: { email: other.email } });
  });

  it("forgets an address's failures after a successful sign-in", async () => {
    const { verifySignIn } = await import("@/lib/users/service");
    const user = await makeUser("forgetful");
    for (let i = 0; i < 4; i++) expect(await verifySignIn(user.email, `typo-${i}`, "127.0.0.2")).toMatchObject({ reason: "invalid" });
    expect(await verifySignIn(user.email, PASSWORD, "127.0.0.2")).toMatchObject({ ok: true });
    for (let i = 0; i < 5; i++) expect(await verifySignIn(user.email, `typo-again-${i}`, "127.0.0.2")).toMatchObject({ reason: "invalid" });
    expect(await verifySignIn(user.email, PASSWORD, "127.0.0.2")).toMatchObject({ reason: "throttled" });
  });

  it("refuses at once, without counting, when the password checks are all taken", async () => {
    const { verifySignIn } = await import("@/lib/users/service");
    const { passwordWork } = await import("@/lib/auth/passwords");
    const { prisma } = await import("@/lib/db");
    const user = await makeUser("busy");
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // Fill every running slot and the whole queue with work that waits for the test.
    const holders = Array.from({ length: 2 + 100 }, () => passwordWork.run(() => held).catch(() => undefined));
    try {
      const started = Date.now();
      expect(await verifySignIn(user.email, PASSWORD, "127.0.0.3")).toMatchObject({ ok: false, reason: "busy" });
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      release();
      await Promise.all(holders);
    }
    const counters = await prisma.signInCounter.findMany({ where: { key: { contains: user.email } } });
    expect(counters.map((c) => c.failures)).toEqual([0, 0]);
    expect(await auditActions(`user:${user.email}`)).toContain("auth.login_busy");
    expect(await verifySignIn(user.email, PASSWORD, "127.0.0.3")).toMatchObject({ ok: true });
  });
});

async function jwtFor(user: { id: string; email: string }, address = "127.0.0.1"): Promise<JWT> {
  const { verifySignIn } = await import("@/lib/users/service");
  const { authOptions } = await import("@/lib/auth/options");
  const result = await verifySignIn(user.email, PASSWORD, address);
  if (!result.ok) throw new Error(`sign-in failed: ${result.reason}`);
  const signedIn = { id: result.user.id, email: user.email, role: result.user.role, tv: result.user.tokenVersion, sid: result.sessionId };
  return (await authOptions.callbacks!.jwt!({ token: { sub: user.id }, user: signedIn as never, account: null, trigger: "signIn" })) as JWT;
}

/** What the server makes of a cookie holding `token` on the next request. */
async function stillValid(token: JWT): Promise<boolean> {
  const { authOptions } = await import("@/lib/auth/options");
  const next = (await authOptions.callbacks!.jwt!({ token, user: undefined as never, account: null })) as JWT;
  return Boolean(next.uid) && !next.revoked;
}

describe("sessions", () => {
  it("sign-out ends the session on the server: the same cookie is refused afterwards", async () => {
    const { authOptions } = await import("@/lib/auth/options");
    const user = await makeUser("signout");
    const token = await jwtFor(user);
    expect(await stillValid(token)).toBe(true);
    await authOptions.events!.signOut!({ token, session: undefined as never });
    expect(await stillValid(token)).toBe(false);
    expect(await auditActions(`user:${user.email}`)).toContain("auth.logout");
  });

  it("a token without a session row (issued before sessions had rows) is refused", async () => {
    const user = await makeUser("legacy");
    expect(await stillValid({ uid: user.id, tv: 0, role: "viewer" })).toBe(false);
  });

  it("changing one's own password keeps this session and ends the others", async () => {
    const { changeOwnPassword, ChangeOwnPasswordInput, verifySignIn } = await import("@/lib/users/service");
    const user = await makeUser("change");
    const here = await jwtFor(user);
    const elsewhere = await jwtFor(user, "127.0.0.9");
    const input = ChangeOwnPasswordInput.parse({ currentPassword: PASSWORD, newPassword: "a-brand-new-password", confirmPassword: "a-brand-new-password" });
    const result = await changeOwnPassword({ ...user, sessionId: here.sid as string }, input, "127.0.0.1");
    expect(result.endedSessions).toBe(1);
    expect(await stillValid(here)).toBe(true);
    expect(await stillValid(elsewhere)).toBe(false);
    expect(await verifySignIn(user.email, PASSWORD, "127.0.0.4")).toMatchObject({ reason: "invalid" });
    expect(await verifySignIn(user.email, "a-brand-new-password", "127.0.0.4")).toMatchObject({ ok: true });
    expect(await auditActions(`user:${user.email}`)).toContain("user.password_change");
  });

  it("refuses a wrong current password and a mismatched confirmation with their own messages", async () => {
    const { changeOwnPassword, ChangeOwnPasswordInput } = await import("@/lib/users/service");
    const user = await makeUser("wrongcurrent");
    const input = ChangeOwnPasswordInput.parse({ currentPassword: "not-my-password", newPassword: "a-brand-new-password", confirmPassword: "a-brand-new-password" });
    await expect(changeOwnPassword(user, input, "127.0.0.1")).rejects.toThrow("Your current password is not correct");
    expect(await auditActions(`user:${user.email}`)).toContain("user.password_change_failed");
    const mismatch = ChangeOwnPasswordInput.safeParse({ currentPassword: PASSWORD, newPassword: "a-brand-new-password", confirmPassword: "a-brand-new-passwore" });
    expect(mismatch.success ? null : mismatch.error.issues[0]).toMatchObject({ path: ["confirmPassword"], message: "The two new passwords differ" });
  });

  it("an admin's reset ends every session of the user, and admins cannot reset themselves this way", async () => {
    const { resetPassword, ResetPasswordInput, verifySignIn } = await import("@/lib/users/service");
    const admin = await makeUser("admin", "admin");
    const user = await makeUser("resetme");
    const a = await jwtFor(user);
    const b = await jwtFor(user, "127.0.0.8");
    const result = await resetPassword(admin, ResetPasswordInput.parse({ userId: user.id, newPassword: "set-by-the-admin-1" }));
    expect(result.endedSessions).toBe(2);
    expect(await stillValid(a)).toBe(false);
    expect(await stillValid(b)).toBe(false);
    expect(await verifySignIn(user.email, "set-by-the-admin-1", "127.0.0.5")).toMatchObject({ ok: true });
    await expect(resetPassword(admin, ResetPasswordInput.parse({ userId: admin.id, newPassword: "set-by-the-admin-1" }))).rejects.toThrow(/Settings > Your account/);
    expect(await auditActions(`user:${user.email}`)).toContain("user.password_reset");
  });
});
