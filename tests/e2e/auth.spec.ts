import { expect, test } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";
import { shot, signIn, signOut, unique } from "./helpers";

test("wrong password shows a clear message", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(E2E_ADMIN.email);
  await page.getByLabel("Password").fill("definitely-not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("main").getByRole("alert")).toHaveText("Wrong e-mail or password.");
  await shot(page, "auth-wrong-password");
});

test("signed-out visitors are sent to sign-in and APIs refuse them", async ({ page, request }) => {
  await page.goto("/settings/users");
  await expect(page).toHaveURL(/\/login/);
  const api = await request.get("/api/v1/hosts");
  expect(api.status()).toBe(401);
  const health = await request.get("/api/health");
  expect(health.status()).toBe(200);
});

test("admin creates an operator; the operator is refused Settings > Users", async ({ page }) => {
  const operator = { email: `op-${unique()}@example.test`, password: "operator-password-1" };
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  const session = await page.request.get("/api/auth/session");
  expect((await session.json()).user.role).toBe("admin");
  await shot(page, "auth-admin-overview");

  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("link", { name: "Open Users" }).click();
  await expect(page.getByRole("heading", { name: "Users", exact: true })).toBeVisible();
  const form = page.getByRole("form", { name: "Add a user" });
  await form.getByLabel("E-mail").fill(operator.email);
  await form.getByLabel("Role").selectOption("operator");
  await form.getByLabel("Initial password (12+ characters)").fill(operator.password);
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByText(`Created ${operator.email}`)).toBeVisible();
  await page.reload();
  await expect(page.getByTestId(`user-row-${operator.email}`)).toBeVisible();
  await shot(page, "auth-users-page");
  await signOut(page);

  await signIn(page, operator.email, operator.password);
  await expect(page.getByTestId("current-role")).toHaveText("operator");
  await page.goto("/settings/users");
  await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  await expect(page.getByText("it needs the admin role")).toBeVisible();
  await shot(page, "auth-operator-refused");
});

test("repeated failed sign-ins are throttled with HTTP 429", async ({ page }) => {
  const victim = `nobody-${unique()}@example.test`;
  for (let i = 0; i < 5; i++) {
    await page.goto("/login");
    await page.getByLabel("E-mail").fill(victim);
    await page.getByLabel("Password").fill(`wrong-${i}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("main").getByRole("alert")).toHaveText("Wrong e-mail or password.");
  }
  const responsePromise = page.waitForResponse((r) => r.url().includes("/api/auth/callback/credentials"));
  await page.getByLabel("Password").fill("wrong-again");
  await page.getByRole("button", { name: "Sign in" }).click();
  expect((await responsePromise).status()).toBe(429);
  await expect(page.getByRole("main").getByRole("alert")).toContainText("Too many failed sign-ins");
  await shot(page, "auth-throttled");
});
