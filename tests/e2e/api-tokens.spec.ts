import { expect, test } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";
import { shot, signIn, unique } from "./helpers";

test("admin mints an API token (shown once), a script uses it, revoking it refuses the script", async ({ page, playwright, baseURL }) => {
  const name = `e2e script ${unique()}`;
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  await page.goto("/settings");
  await page.getByRole("link", { name: "Open API tokens" }).click();
  await expect(page.getByRole("heading", { name: "API tokens" })).toBeVisible();

  const form = page.getByRole("form", { name: "Create a token" });
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Scope").selectOption("read");
  await form.getByLabel("Expires").selectOption("30");
  await form.getByRole("button", { name: "Create token" }).click();
  const minted = page.getByTestId("minted-token");
  await expect(minted).toContainText("will not be shown again");
  const token = await minted.getByLabel("New token").inputValue();
  expect(token).toMatch(/^tfl_[0-9a-f]{8}_[A-Za-z0-9_-]{32}$/);
  const row = page.getByTestId(`token-row-${name}`);
  await expect(row).toContainText("read");
  await expect(row.getByTestId("token-state")).toHaveText("viewer");
  await shot(page, "api-tokens-minted");

  // A script, with no cookies: only the token.
  const script = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { authorization: `Bearer ${token}` } });
  const hosts = await script.get("/api/v1/hosts");
  expect(hosts.status()).toBe(200);
  expect(await hosts.json()).toMatchObject({ rows: expect.any(Array) });
  // read scope: creating a host is refused, as problem+json.
  const write = await script.post("/api/v1/hosts", { data: { name: "not-allowed", address: "192.0.2.9" } });
  expect(write.status()).toBe(403);
  expect(write.headers()["content-type"]).toBe("application/problem+json");
  const doc = await script.get("/api/v1/openapi.json");
  expect((await doc.json()).openapi).toBe("3.1.0");

  // The token is shown once: after a reload only its prefix is left, and it was used.
  await page.reload();
  await expect(page.getByTestId("minted-token")).toHaveCount(0);
  await expect(page.getByText(token)).toHaveCount(0);
  await expect(row).toContainText(`tfl_${token.slice(4, 12)}_…`);
  await expect(row).not.toContainText("never used");

  page.once("dialog", (d) => void d.accept());
  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(row.getByTestId("token-state")).toContainText("revoked");
  const refused = await script.get("/api/v1/hosts");
  expect(refused.status()).toBe(401);
  expect(await refused.json()).toMatchObject({ status: 401, error: "Sign in or send an API token" });
  await shot(page, "api-tokens-revoked");
  await script.dispose();
});
