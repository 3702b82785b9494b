// Evidence for an auditor, in Chromium against `tlsfleet start` (web + worker): the compliance
// CSV of a filtered host list (now, and as of a past instant), then the PDF evidence pack, made
// by the worker while the page shows its progress, downloaded, rendered to PNG with poppler's
// pdftoppm (test-results/evidence-pack-*.png, looked at by a person) and read with pdftotext.
//
// The hosts' history (probe results, config snapshots and status changes of the past weeks, an
// exception, a rollout) is written into the database first: a scan can only record "now", and
// the point-in-time export and the pack's "then vs now" need a past.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, copyFileSync, mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { expect, test } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";
import { shot, signIn, unique } from "./helpers";

const DAY = 86_400_000;
const protocols = (legacy: boolean) =>
  JSON.stringify({
    TLSv1: { outcome: legacy ? "accepted" : "rejected", reason: legacy ? null : "protocol_version alert" },
    "TLSv1.1": { outcome: "rejected", reason: "protocol_version alert" },
    "TLSv1.2": { outcome: "accepted", reason: null },
    "TLSv1.3": { outcome: legacy ? "rejected" : "accepted", reason: legacy ? "protocol_version alert" : null },
  });
const ciphers = (legacy: boolean) => JSON.stringify(legacy ? { TLSv1: "ECDHE-RSA-AES128-SHA", "TLSv1.2": "ECDHE-RSA-AES256-GCM-SHA384" } : { "TLSv1.2": "ECDHE-RSA-AES256-GCM-SHA384", "TLSv1.3": "TLS_AES_256_GCM_SHA384" });

/** Three mail hosts that all accepted TLS 1.0 35 days ago (before the pack's default 30-day period); a rollout fixed mx1 and mx2 10 days ago; mx3 has an exception. */
async function seedHistory(u: string) {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error("E2E_DATABASE_URL must name the e2e database (scripts/test-all.sh sets it)");
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const at = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY);
  try {
    const { rows: admins } = await db.query(`SELECT id, email FROM "User" WHERE email = $1`, [E2E_ADMIN.email]);
    const admin = admins[0];
    for (const [i, fixed] of [true, true, false].entries()) {
      const name = `${u}-mx${i + 1}.example.test`;
      const {
        rows: [host],
      } = await db.query(`INSERT INTO "Host" (id, name, address, platform, roles, tags, "createdAt", "updatedAt") VALUES (gen_random_uuid(), $1, $2, 'linux', ARRAY['postfix'], ARRAY[$3], $4, now()) RETURNING id`, [
        name,
        `198.18.9.${i + 1}`, // data only: never dialled (no scan runs in this spec)
        u,
        at(40),
      ]);
      await db.query(`INSERT INTO "HostStatus" ("hostId", status, explanation, "lastChangedAt", "lastScanAt") VALUES ($1, $2, $3, $4, $4)`, [
        host.id,
        fixed ? "compliant" : "excepted",
        fixed ? "TLS 1.0/1.1 rejected and TLS 1.2+ accepted on 25/smtp" : "TLS 1.0 accepted on 25/smtp; excepted: legacy fax gateway",
        at(9),
      ]);
      const {
        rows: [ep],
      } = await db.query(`INSERT INTO "Endpoint" (id, "hostId", port, service, "tlsStart", "createdAt") VALUES (gen_random_uuid(), $1, 25, 'smtp', 'starttls', $2) RETURNING id`, [host.id, at(40)]);
      for (const [daysAgo, legacy] of [
        [35, true],
        [9, !fixed],
      ] as const) {
        await db.query(`INSERT INTO "ProbeResult" ("endpointId", "probedAt", starttls, protocols, ciphers, verdict) VALUES ($1, $2, 'offered', $3, $4, $5)`, [ep.id, at(daysAgo), protocols(legacy), ciphers(legacy), legacy ? "noncompliant" : "compliant"]);
        await db.query(`INSERT INTO "ConfigSnapshot" ("hostId", "takenAt", playbook, state, raw) VALUES ($1, $2, 'postfix', $3, '')`, [
          host.id,
          at(daysAgo),
          JSON.stringify({ legacyEnabled: legacy, tls12Enabled: true, summary: `smtpd_tls_protocols = ${legacy ? ">=TLSv1" : ">=TLSv1.2"}` }),
        ]);
      }
      await db.query(`INSERT INTO "StatusHistory" ("hostId", at, status, previous, explanation) VALUES ($1, $2, 'noncompliant', 'unknown', 'TLS 1.0 accepted on 25/smtp'), ($1, $3, $4, 'noncompliant', $5)`, [
        host.id,
        at(35),
        at(9),
        fixed ? "compliant" : "excepted",
        fixed ? "TLS 1.0/1.1 rejected" : "excepted: legacy fax gateway",
      ]);
      if (fixed) {
        const {
          rows: [r],
        } = await db.query(
          `INSERT INTO "Rollout" (id, goals, state, target, settings, "requestedById", "requestedBy", "approvedById", "approvedBy", "approvedAt", "planHash", "createdAt", "updatedAt")
           VALUES (gen_random_uuid(), ARRAY['disable-legacy'], 'succeeded', '{}', '{}', $1, $2, $1, $2, $3, $4, $3, now()) RETURNING id`,
          [admin.id, admin.email, at(10), "cd".repeat(32)],
        );
        await db.query(`INSERT INTO "RolloutHost" (id, "rolloutId", "hostId", "hostName", state, before, after, "updatedAt") VALUES (gen_random_uuid(), $1, $2, $3, 'verified', $4, $5, now())`, [
          r.id,
          host.id,
          name,
          JSON.stringify({ postfix: { settings: [{ scope: "main.cf", setting: "smtpd_tls_protocols", value: ">=TLSv1" }] } }),
          JSON.stringify({ postfix: { settings: [{ scope: "main.cf", setting: "smtpd_tls_protocols", value: ">=TLSv1.2" }] } }),
        ]);
      } else {
        await db.query(`INSERT INTO "Exception" (id, "hostId", "endpointPort", version, justification, "expiresAt", "requestedById", "approvedById", "approvedAt") VALUES (gen_random_uuid(), $1, 25, 'TLSv1', 'Legacy fax gateway until its replacement in March', $2, $3, $3, $4)`, [
          host.id,
          new Date(Date.now() + 60 * DAY),
          admin.id,
          at(9),
        ]);
      }
    }
  } finally {
    await db.end();
  }
}

function csvLines(text: string): string[][] {
  // The evidence has no commas or quotes in these rows: a plain split is enough here.
  return text
    .replace(/^\uFEFF/, "")
    .trimEnd()
    .split("\r\n")
    .map((l) => l.split(","));
}

test("evidence: compliance CSV now and as of a past day, PDF pack with progress, rendered and read back", async ({ page }) => {
  const u = `ev${unique()}`;
  await seedHistory(u);
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);

  // ---- compliance CSV of the filtered list
  await page.goto(`/hosts?q=${u}`);
  await expect(page.getByText("3 matching this filter")).toBeVisible();
  await shot(page, "evidence-hosts");
  let downloadPromise = page.waitForEvent("download");
  await page.getByRole("link", { name: "Compliance CSV" }).click();
  let download = await downloadPromise;
  expect(download.suggestedFilename()).toMatch(new RegExp(`^tlsfleet-compliance-${u}-\\d{4}-\\d{2}-\\d{2}T\\d{4}Z\\.csv$`));
  let [header, ...rows] = csvLines(await readFile((await download.path())!, "utf8"));
  expect(header.slice(0, 8)).toEqual(["host", "address", "group", "endpoint", "version", "outcome", "reason", "cipher"]);
  expect(rows).toHaveLength(12);
  const col = (name: string) => header.indexOf(name);
  const tls10 = (host: string) => rows.find((r) => r[0] === `${u}-${host}.example.test` && r[col("version")] === "TLS 1.0")!;
  expect(tls10("mx1")[col("outcome")]).toBe("rejected");
  expect(tls10("mx3")[col("outcome")]).toBe("accepted");
  expect(tls10("mx3")[col("exception")]).toContain("Legacy fax gateway");

  // ---- the same list as of 15 days ago: every host still accepted TLS 1.0 then
  const asOf = new Date(Date.now() - 15 * DAY).toISOString().slice(0, 10);
  await page.getByText("As of…").click();
  await page.getByLabel("Evidence as of (UTC)").fill(`${asOf} 00:00 UTC`);
  downloadPromise = page.waitForEvent("download");
  await page.getByRole("button", { name: "CSV as of" }).click();
  download = await downloadPromise;
  expect(download.suggestedFilename()).toMatch(/^tlsfleet-compliance-asof-/);
  [header, ...rows] = csvLines(await readFile((await download.path())!, "utf8"));
  expect(rows.filter((r) => r[col("version")] === "TLS 1.0").map((r) => r[col("outcome")])).toEqual(["accepted", "accepted", "accepted"]);
  expect(rows.every((r) => r[col("hostStatus")] === "noncompliant")).toBe(true);

  // ---- PDF evidence pack of the filter, generated by the worker
  await page.goto(`/hosts?q=${u}`);
  await page.getByRole("button", { name: "PDF evidence pack" }).click();
  await expect(page).toHaveURL(/\/evidence\/[0-9a-f-]{36}$/);
  const progress = page.getByTestId("pack-progress");
  await expect(progress).toHaveAttribute("data-state", "succeeded", { timeout: 90_000 });
  await expect(page.getByText("3 of 3 hosts")).toBeVisible();
  await shot(page, "evidence-pack-ready");
  downloadPromise = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download PDF" }).click();
  download = await downloadPromise;
  expect(download.suggestedFilename()).toMatch(/^tlsfleet-evidence-.*\.pdf$/);
  const pdf = (await download.path())!;
  expect(readFileSync(pdf).subarray(0, 5).toString()).toBe("%PDF-");

  // Render every page and keep the PNGs for a person to look at.
  const dir = mkdtempSync(path.join(tmpdir(), "evidence-pdf-"));
  execFileSync("pdftoppm", ["-png", "-r", "70", pdf, path.join(dir, "page")]);
  const pngs = readdirSync(dir).filter((f) => f.endsWith(".png")).sort();
  expect(pngs.length).toBeGreaterThanOrEqual(2);
  mkdirSync("test-results", { recursive: true });
  pngs.forEach((f, i) => copyFileSync(path.join(dir, f), `test-results/evidence-pack-${i + 1}.png`));

  const text = execFileSync("pdftotext", ["-layout", pdf, "-"], { encoding: "utf8" });
  const answer = text.indexOf("1 of 3 hosts accept TLS 1.0 or 1.1 now");
  expect(answer).toBeGreaterThanOrEqual(0);
  expect(text).toMatch(/At the start of the period \([^)]+\): 3 of 3 hosts that existed then\. 2 fewer now\./);
  for (const section of ["Trend: hosts accepting TLS 1.0/1.1", "What each section answers (PCI DSS v4.0)", "Exceptions", "Protocol and cipher inventory per endpoint", "Per-host evidence"]) {
    expect(text.indexOf(section)).toBeGreaterThan(answer);
  }
  for (const s of ["4.2.1", "2.2.5", "12.3.3", "Legacy fax gateway", "ECDHE-RSA-AES128-SHA", "smtpd_tls_protocols = >=TLSv1.2"]) expect(text).toContain(s);
  // The worker may have signed a checkpoint by now: the pack is cut from it, else from the chain head.
  expect(text).toMatch(/Cut from the audit (chain head|checkpoint \d+ \(event \d+\)): event #\d+ at /);
  const reading = execFileSync("pdftotext", [pdf, "-"], { encoding: "utf8" }).replace(/\s+/g, "");
  expect(reading).toContain(`Requestedby${E2E_ADMIN.email};approvedby${E2E_ADMIN.email}`);
});
