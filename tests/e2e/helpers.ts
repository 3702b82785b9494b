import { expect, type Browser, type Locator, type Page } from "@playwright/test";

export async function signIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
}

export async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
}

/** Settings > Users: an admin adds a user with an initial password. */
export async function addUser(page: Page, email: string, role: "viewer" | "operator" | "admin", password: string) {
  await page.goto("/settings/users");
  const form = page.getByRole("form", { name: "Add a user" });
  await form.getByLabel("E-mail").fill(email);
  await form.getByLabel("Role").selectOption(role);
  await form.getByLabel("Initial password (12+ characters)").fill(password);
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByText(`Created ${email}`)).toBeVisible();
}

/** A second person at their own browser: a fresh context (own cookies), signed in. */
export async function pageAs(browser: Browser, email: string, password: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, email, password);
  return page;
}

export function shot(page: Page, name: string) {
  return page.screenshot({ path: `test-results/${name}.png`, fullPage: true });
}

export const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

/** Adds the lab's range and loopback (the Windows double) to the allowed targets (Settings > Scans).
 *  Once set there, they replace TLSFLEET_ALLOWED_TARGETS, so loopback must be listed too. */
export async function allowLabTargets(page: Page) {
  await page.goto("/settings/scans");
  const targets = page.getByLabel("Ranges and suffixes");
  const current = await targets.inputValue();
  const missing = ["198.18.0.0/15", "127.0.0.1/32"].filter((t) => !current.includes(t));
  if (missing.length === 0) return;
  await targets.fill([current.trim(), ...missing].filter(Boolean).join("\n"));
  await page.getByRole("form", { name: "Scan settings" }).getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toBeVisible();
}

/** Stores a credential through Settings > Credentials, as an admin does. */
/** Settings > Credentials > Edit scope: the address ranges the credential may be used for, as an admin sets them. */
export async function scopeCredential(page: Page, name: string, cidrs: string[]) {
  await page.goto("/settings/credentials");
  const row = page.getByTestId(`credential-row-${name}`);
  await row.getByRole("button", { name: "Edit scope" }).click();
  const form = row.getByRole("form", { name: `Scope of ${name}` });
  await form.getByLabel("Address ranges").fill(cidrs.join("\n"));
  await form.getByRole("button", { name: "Save scope" }).click();
  await expect(row.getByTestId("credential-scope")).toHaveText(cidrs.join(", "));
}

/** Host page, as an admin: ticks one of the host's identity decisions ("Allow TLS 1.0/1.1 for WinRM", ...). */
export async function tickHostTrust(page: Page, hostId: string, label: string) {
  await page.goto(`/hosts/${hostId}`);
  const controls = page.getByTestId("host-trust-controls");
  await controls.getByLabel(label).check();
  await expect(controls.getByText(`${label}: on`)).toBeVisible();
}

/** Adds a credential in Settings > Credentials and scopes it to `scope` (address ranges). */
export async function addCredential(page: Page, c: { name: string; kind: "ssh_key" | "winrm_basic" | "winrm_ntlm" | "ssh_password"; username: string; secret: string; scope: string[] }) {
  await page.goto("/settings/credentials");
  const form = page.getByRole("form", { name: "Add a credential" });
  await form.getByLabel("Name", { exact: true }).fill(c.name);
  await form.getByLabel("Kind").selectOption(c.kind);
  await form.getByLabel("Username").fill(c.username);
  await form.getByLabel(c.kind === "ssh_key" ? "Private key (OpenSSH or PEM, unencrypted)" : "Password").fill(c.secret);
  await form.getByRole("button", { name: "Save credential" }).click();
  await expect(page.getByRole("cell", { name: c.name })).toBeVisible();
  await scopeCredential(page, c.name, c.scope);
}

/** The job the page just started, from the "follow the job" link it showed. */
export async function jobIdFromAlert(page: Page): Promise<string> {
  const link = page.getByRole("link", { name: "follow the job" });
  await expect(link).toBeVisible({ timeout: 30_000 });
  return (await link.getAttribute("href"))!.split("/").pop()!;
}

/** Waits for a job to end, in whatever final state, through the REST API. */
export async function jobFinished(page: Page, jobId: string) {
  await expect
    .poll(
      async () => {
        const res = await page.request.get(`/api/v1/jobs/${jobId}`);
        return res.ok() ? ((await res.json()) as { job: { state: string } }).job.state : "missing";
      },
      { timeout: 150_000, intervals: [1_000] },
    )
    .toMatch(/^(succeeded|failed|cancelled|halted)$/);
}

/** Waits for the job the page just started (its "follow the job" link) to end; returns its id. */
export async function followJobToEnd(page: Page): Promise<string> {
  const jobId = await jobIdFromAlert(page);
  await jobFinished(page, jobId);
  return jobId;
}

/** Creates a host through the REST API as the signed-in user (201 expected); returns its id. */
export async function createHostViaApi(page: Page, data: Record<string, unknown>): Promise<string> {
  const res = await page.request.post("/api/v1/hosts", { headers: { origin: new URL(page.url()).origin, "content-type": "application/json" }, data });
  expect(res.status(), await res.text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** On the new-rollout form: makes the plan and waits for it; the rollout's address and its state badge. */
export async function makePlan(page: Page): Promise<{ rolloutUrl: string; state: Locator }> {
  await page.getByRole("button", { name: "Make the plan" }).click();
  await expect(page).toHaveURL(/\/rollouts\/[0-9a-f-]{36}$/);
  const rolloutUrl = page.url();
  const state = page.locator("h1 [data-rollout-state]");
  await expect(state).toHaveAttribute("data-rollout-state", "planned", { timeout: 120_000 });
  return { rolloutUrl, state };
}

/** What a plan needs from a host: wire evidence, a config audit, and its key confirmed by an admin. */
export async function scanAuditAndConfirmKey(page: Page, hostId: string) {
  await page.goto(`/hosts/${hostId}`);
  await page.getByRole("button", { name: "Scan this host" }).click();
  await followJobToEnd(page);
  await page.reload();
  // The audit reads the key without logging in and records it for the admin (the task fails:
  // nothing is sent to an unconfirmed key); the admin confirms it on the host page.
  await page.getByRole("button", { name: "Run config audit" }).click();
  await followJobToEnd(page);
  await page.reload();
  await page.getByTestId("host-key-panel").getByRole("button", { name: "Confirm host key" }).click();
  await expect(page.getByTestId("host-key-panel").getByTestId("pinned-key")).toBeVisible();
}
