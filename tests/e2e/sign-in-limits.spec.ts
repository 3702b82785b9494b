// Sign-in limits and sessions through the real HTTP server (bin/web-server.js serving the built
// app, as playwright.config.ts starts it): requests come from 127.0.0.1 whatever X-Forwarded-For
// says, because no proxy is trusted (TLSFLEET_TRUSTED_PROXY_HOPS unset = 0).
import { expect, request as newRequest, test, type APIRequestContext } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";
import { shot, signIn, signOut, unique } from "./helpers";

async function csrf(api: APIRequestContext): Promise<string> {
  const res = await api.get("/api/auth/csrf");
  return ((await res.json()) as { csrfToken: string }).csrfToken;
}

/** One sign-in POST the way next-auth/react sends it, with a chosen X-Forwarded-For. */
function attempt(api: APIRequestContext, csrfToken: string, email: string, password: string, forwardedFor?: string) {
  return api.post("/api/auth/callback/credentials", {
    form: { email, password, csrfToken, json: "true" },
    headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {},
    maxRedirects: 0,
  });
}

/** Whom the server takes this cookie jar for (undefined: nobody, the session is over). */
async function sessionEmail(api: APIRequestContext): Promise<string | undefined> {
  return ((await (await api.get("/api/auth/session")).json()) as { user?: { email?: string } }).user?.email;
}

const rotatingAddress = (i: number) => `203.0.113.${(i % 250) + 1}, 198.51.100.${(i * 7) % 250 + 1}`;

test("20 parallel wrong passwords with a rotating X-Forwarded-For are throttled; another account still signs in", async ({ baseURL }) => {
  const attacker = await newRequest.newContext({ baseURL });
  const victim = `victim-${unique()}@example.test`;
  const token = await csrf(attacker);
  const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(attacker, token, victim, `guess-${i}`, rotatingAddress(i))));
  const statuses = responses.map((r) => r.status());
  // Five reach the password check (the per-address limit for 127.0.0.1), the rest are refused.
  expect(statuses.filter((s) => s === 401)).toHaveLength(5);
  expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  const refused = responses.find((r) => r.status() === 429)!;
  expect(Number(refused.headers()["retry-after"])).toBeGreaterThan(0);
  expect(new URL(((await refused.json()) as { url: string }).url).searchParams.get("error")).toBe("TooManyAttempts");
  // A new forged address does not help either.
  expect((await attempt(attacker, token, victim, "one-more", "192.0.2.77")).status()).toBe(429);
  await attacker.dispose();

  // Someone else, from the same machine, signs in as usual.
  const admin = await newRequest.newContext({ baseURL });
  const ok = await attempt(admin, await csrf(admin), E2E_ADMIN.email, E2E_ADMIN.password, "203.0.113.9");
  expect(ok.status()).toBe(200);
  expect(await sessionEmail(admin)).toBe(E2E_ADMIN.email);
  await admin.dispose();
});

test("a sign-in flood gets bounded answers (checked or 503 busy), and the app keeps answering meanwhile", async ({ baseURL }) => {
  const flood = await newRequest.newContext({ baseURL });
  const token = await csrf(flood);
  const idleStarted = Date.now();
  expect((await flood.get("/api/health")).status()).toBe(200);
  const idleMs = Date.now() - idleStarted;
  const started = Date.now();
  const attempts = Array.from({ length: 40 }, (_, i) =>
    attempt(flood, token, `flood-${i}-${unique()}@example.test`, "x", rotatingAddress(i)).then((r) => ({ status: r.status(), ms: Date.now() - started })),
  );
  await new Promise((r) => setTimeout(r, 300));
  const healthStarted = Date.now();
  const health = await flood.get("/api/health");
  const healthMs = Date.now() - healthStarted;
  const results = await Promise.all(attempts);
  const busy = results.filter((r) => r.status === 503);
  const checked = results.filter((r) => r.status === 401);
  console.log(`flood: ${checked.length} checked, ${busy.length} refused busy, slowest answer ${Math.max(...results.map((r) => r.ms))} ms; /api/health took ${healthMs} ms (${idleMs} ms before the flood)`);
  expect(health.status()).toBe(200);
  // bcrypt runs in worker threads, so the event loop stays free for everyone else. (With bcrypt
  // on the main thread this took 8.5 s; the bound leaves room for a shared, loaded 2-core machine.)
  expect(healthMs).toBeLessThan(3_000);
  // Every attempt is either checked or refused as busy; none waits unboundedly (5 s queue wait at most).
  expect(checked.length + busy.length).toBe(40);
  expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(20_000);
  await flood.dispose();
});

test("sign-out ends the session on the server: a copied cookie stops working", async ({ page, baseURL }) => {
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  const stolen = await page.context().storageState();
  const thief = await newRequest.newContext({ baseURL, storageState: stolen });
  expect((await thief.get("/api/v1/hosts")).status()).toBe(200);
  await signOut(page);
  expect((await thief.get("/api/v1/hosts")).status()).toBe(401);
  expect(await sessionEmail(thief)).toBeUndefined();
  await thief.dispose();
});

test("a user changes their password with the keyboard; other sessions end; an admin reset ends the rest", async ({ page, browser, baseURL }) => {
  const user = { email: `pw-${unique()}@example.test`, password: "first-password-123" };
  // The admin creates the user.
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  await page.goto("/settings/users");
  const form = page.getByRole("form", { name: "Add a user" });
  await form.getByLabel("E-mail").fill(user.email);
  await form.getByLabel("Initial password (12+ characters)").fill(user.password);
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByText(`Created ${user.email}`)).toBeVisible();

  // The user signs in twice (two browsers).
  const laptop = await browser.newContext({ baseURL });
  const phone = await browser.newContext({ baseURL });
  const laptopPage = await laptop.newPage();
  await signIn(laptopPage, user.email, user.password);
  await signIn(await phone.newPage(), user.email, user.password);

  await laptopPage.goto("/settings");
  await laptopPage.getByRole("link", { name: "Open Your account" }).click();
  const change = laptopPage.getByRole("form", { name: "Change your password" });
  // Keyboard only: type into each field, Tab to the next, Enter submits.
  await change.getByLabel("Current password").focus();
  await laptopPage.keyboard.type("wrong-current-password");
  await laptopPage.keyboard.press("Tab");
  await laptopPage.keyboard.type("second-password-456");
  await laptopPage.keyboard.press("Tab");
  await laptopPage.keyboard.type("second-password-456");
  await laptopPage.keyboard.press("Enter");
  await expect(change.getByRole("alert")).toHaveText("Your current password is not correct");
  await change.getByLabel("Current password").fill(user.password);
  await change.getByLabel("New password again").press("Enter");
  await expect(change.getByRole("status")).toHaveText("Password changed. 1 other session was signed out.");
  await shot(laptopPage, "account-password-changed");

  expect(await sessionEmail(phone.request)).toBeUndefined();
  expect(await sessionEmail(laptop.request)).toBe(user.email);

  // The admin resets the password: the laptop session ends too.
  await page.goto("/settings/users");
  const row = page.getByTestId(`user-row-${user.email}`);
  await row.getByRole("button", { name: "Reset password…" }).click();
  const reset = page.getByRole("form", { name: `Reset the password of ${user.email}` });
  await reset.getByLabel(`New password for ${user.email} (12+ characters)`).fill("short");
  await reset.getByRole("button", { name: "Set new password" }).click();
  await expect(reset.getByRole("alert")).toContainText("at least 12 characters");
  await reset.getByLabel(`New password for ${user.email} (12+ characters)`).fill("third-password-789");
  await reset.getByRole("button", { name: "Set new password" }).click();
  await expect(reset.getByRole("status")).toContainText(`Password of ${user.email} reset; 1 session ended.`);
  await shot(page, "users-password-reset");
  expect(await sessionEmail(laptop.request)).toBeUndefined();
  await laptop.close();
  await phone.close();

  await signOut(page);
  await signIn(page, user.email, "third-password-789");
});

test("scripts run only with the response's CSP nonce, and no CSP violation shows on sign-in", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  const res = await page.goto("/login");
  const csp = res!.headers()["content-security-policy"];
  const scriptSrc = csp.split("; ").find((d) => d.startsWith("script-src "))!;
  expect(scriptSrc).toMatch(/^script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'$/);
  expect(scriptSrc).not.toContain("unsafe-inline");
  const nonce = /'nonce-([^']+)'/.exec(scriptSrc)![1];
  const scripts = await page.locator("script").evaluateAll((els) => els.map((e) => (e as HTMLScriptElement).nonce));
  expect(scripts.length).toBeGreaterThan(0);
  expect(scripts.every((n) => n === nonce)).toBe(true);
  // Plain HTTP on localhost here: no HSTS.
  expect(res!.headers()["strict-transport-security"]).toBeUndefined();
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  expect(violations).toEqual([]);
});
