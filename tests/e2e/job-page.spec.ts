// A big job's page (issue 12): counts for the whole job, 100 rows a page with keyboard-usable page
// and filter links, and a task that ends while the page is open updates its row and the counts
// live, without a reload. The job is written straight into the e2e database (no lab needed):
// 250 hosts, a running job over them, its tasks finished by UPDATEs as a worker writes them.
import { expect, test } from "@playwright/test";
import pg from "pg";
import { E2E_ADMIN } from "../../playwright.config";
import { shot, signIn, unique } from "./helpers";

const HOSTS = 250;

test("a 250-host job pages its rows and updates the open page live", async ({ page }) => {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error("E2E_DATABASE_URL must name the e2e database (scripts/test-all.sh sets it)");
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const u = `bigjob${unique()}`;
    await db.query(
      `INSERT INTO "Host" (id, name, address, platform, roles, tags, transport, port, "updatedAt")
       SELECT gen_random_uuid(), $1 || '-' || lpad(n::text, 3, '0'), '192.0.2.' || (n % 250 + 1), 'linux', ARRAY['postfix'], ARRAY[]::text[], 'ssh', 22, now()
       FROM generate_series(1, $2::int) n`,
      [u, HOSTS],
    );
    const { rows: [job] } = await db.query<{ id: string }>(
      `INSERT INTO "Job" (id, kind, state, target, parameters, "startedAt") VALUES (gen_random_uuid(), 'scan', 'running', '{"filter":{}}', '{}', now()) RETURNING id::text AS id`,
    );
    await db.query(
      `INSERT INTO "JobTask" (id, "jobId", "hostId", state, "updatedAt")
       SELECT gen_random_uuid(), $1::uuid, h.id, CASE WHEN h.name LIKE '%-00_' THEN 'failed' ELSE 'queued' END::"TaskState", now() - interval '1 minute'
       FROM "Host" h WHERE starts_with(h.name, $2 || '-')`,
      [job!.id, u],
    );
    const finish = (name: string) =>
      db.query(
        `UPDATE "JobTask" t SET state = 'succeeded', attempt = 1, log = 'finished by the e2e test\n', "finishedAt" = now(), "updatedAt" = clock_timestamp()
         FROM "Host" h WHERE h.id = t."hostId" AND t."jobId" = $1::uuid AND h.name = $2`,
        [job!.id, name],
      );

    await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
    await page.goto(`/jobs/${job!.id}`);
    await expect(page.getByRole("heading", { name: `Hosts (${HOSTS})` })).toBeVisible();
    await expect(page.locator("[data-task-host]")).toHaveCount(100);
    const pager = page.getByTestId("task-pager");
    await expect(pager).toContainText(`Hosts 1–100 of ${HOSTS}`);
    await expect(page.getByTestId("stream-state")).toHaveText("Live");

    // A task on this page ends: its row and the counts change without a reload.
    const row = page.locator(`[data-task-host="${u}-012"]`);
    await expect(row.locator("td").nth(1)).not.toContainText(/succeeded|done/i);
    await finish(`${u}-012`);
    await expect(row.locator("td").nth(2)).toHaveText("1", { timeout: 5_000 });
    await expect(page.getByTestId("progress-counts").locator('[data-count="done"]')).toHaveText(/done\s+1$/);
    await shot(page, "job-page-live");

    // Page 3 by keyboard: the last 50 rows.
    await pager.getByRole("link", { name: "Page 3" }).focus();
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/[?&]page=3/);
    await expect(page.locator("[data-task-host]")).toHaveCount(50);
    await expect(page.getByTestId("task-pager")).toContainText(`Hosts 201–250 of ${HOSTS}`);
    await expect(page.getByRole("link", { name: "Page 3" })).toHaveAttribute("aria-current", "page");
    // A task on another page ends: the counts move, the rows here stay as they are.
    await expect(page.getByTestId("stream-state")).toHaveText("Live");
    await finish(`${u}-013`);
    await expect(page.getByTestId("progress-counts").locator('[data-count="done"]')).toHaveText(/done\s+2$/, { timeout: 5_000 });
    await expect(page.locator("[data-task-host]")).toHaveCount(50);

    // The failed filter: the 9 hosts named -001 to -009, one page, no pager.
    await page.getByRole("navigation", { name: "Show hosts" }).getByRole("link", { name: "Failed / unreachable" }).click();
    await expect(page).toHaveURL(/[?&]state=failed/);
    await expect(page.locator("[data-task-host]")).toHaveCount(9);
    await expect(page.getByTestId("task-pager")).toHaveCount(0);
    // An empty filter says so and links back to all hosts.
    await page.getByRole("navigation", { name: "Show hosts" }).getByRole("link", { name: "Running" }).click();
    await expect(page.getByText("No hosts are running yet")).toBeVisible();
    await page.getByRole("link", { name: `Show all ${HOSTS} hosts` }).click();
    await expect(page.locator("[data-task-host]")).toHaveCount(100);
  } finally {
    await db.end();
  }
});
