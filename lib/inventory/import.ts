import "server-only";
// CSV host import: preview (validate, read-only) and commit (all rows or none, in one
// transaction, set-based SQL so 50,000 rows take seconds, not 50,000 round trips).
//
// Nothing parsed is kept between preview and commit: the commit sends the same file again with
// the SHA-256 the preview returned, and is parsed and validated again from scratch. The hash only
// makes sure the user commits the file they looked at.
import { createHash } from "node:crypto";
import { prisma } from "../db";
import { Prisma } from "../generated/prisma/client";
import { IDENTITY_RESET } from "./custody";
import { isCredentialAdmin } from "./hosts";
import { rowCustody, type RowCustody } from "./import-custody";
import { recordAuditInTx } from "../audit/log";
import { logger } from "../log";
import { CSV_MAX_BYTES, CsvSyntaxError, decodeCsvBytes } from "./csv";
import { parseImportCsv, type ImportColumn, type ImportIssue, type ImportRow } from "./import-rows";
import { forgetTagAndGroupChoices, InventoryError } from "./hosts";
import type { Actor } from "../auth/actor";

export type { ImportIssue } from "./import-rows";
export type { CustodyChange } from "./import-custody";

/** The preview lists at most this many problems and rows; the counts are always complete. */
const MAX_LISTED_ISSUES = 500;
const MAX_PREVIEW_ROWS = 200;
// A 50,000-row import takes a few seconds here; the limit only stops a stuck transaction.
const COMMIT_TIMEOUT_MS = 180_000;
const ANALYZE_AFTER_ROWS = 1000;

export interface PreviewRow {
  line: number;
  action: "create" | "update" | null;
  cells: Partial<Record<ImportColumn, string>>;
  endpoints: string;
  issues: ImportIssue[];
  /** What the row does that the user should know before committing (a credential detached). */
  warnings: ImportIssue[];
}

export interface ImportPreview {
  sha256: string;
  columns: ImportColumn[];
  rowCount: number;
  validCount: number;
  creates: number;
  updates: number;
  issueCount: number;
  badRowCount: number;
  /** The first MAX_LISTED_ISSUES problems, in file order. */
  issues: ImportIssue[];
  /** Hosts that will lose their credential (a non-admin changes its address, transport, port or credential). */
  credentialsDropped: number;
  /** The first MAX_LISTED_ISSUES warnings, one per such host, in file order. Warnings do not block the commit. */
  warnings: ImportIssue[];
  /** Rows with problems first (up to the cap), then rows with warnings, then the first other valid rows. */
  rows: PreviewRow[];
}

export interface ImportResult {
  sha256: string;
  rows: number;
  /** Hosts that lost their credential because a non-admin changed a custody field. */
  credentialsDropped: number;
  created: number;
  updated: number;
  unchanged: number;
  endpointsAdded: number;
  endpointsUpdated: number;
  endpointsRemoved: number;
}

/** A commit refused because the file has problems; nothing was written. */
export class ImportRejectedError extends InventoryError {
  constructor(readonly preview: ImportPreview) {
    super(`Nothing was imported: the file has ${preview.issueCount} problem${preview.issueCount === 1 ? "" : "s"} in ${preview.badRowCount || 1} row${preview.badRowCount > 1 ? "s" : ""}. Fix them and upload the file again.`);
  }
}

/** At most this many hosts are listed by name in the import's audit event (each also has its own). */
const MAX_LISTED_CUSTODY = 1000;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function toBytes(content: Uint8Array | string): Uint8Array {
  return typeof content === "string" ? Buffer.from(content, "utf8") : content;
}

interface Analysis {
  sha256: string;
  preview: ImportPreview;
  rows: ImportRow[];
  columns: ImportColumn[];
  custody: Pick<RowCustody, "effective" | "changes">;
}

/** Parses, validates and checks the file against the database, as `actor` would import it. Reads only. */
async function analyse(actor: Actor, content: Uint8Array | string, db: Pick<typeof prisma, "$queryRaw"> = prisma): Promise<Analysis> {
  const bytes = toBytes(content);
  const sha256 = sha256Hex(bytes);
  let text: string;
  try {
    text = decodeCsvBytes(bytes, CSV_MAX_BYTES);
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    const issue = { line: err.line, column: null, reason: err.message.replace(/^Line \d+: /, "") };
    const preview = { sha256, columns: [], rowCount: 0, validCount: 0, creates: 0, updates: 0, issueCount: 1, badRowCount: 0, issues: [issue], credentialsDropped: 0, warnings: [], rows: [] };
    return { sha256, rows: [], columns: [], custody: { effective: new Map(), changes: [] }, preview };
  }
  const parsed = parseImportCsv(text);
  const issues = parsed.issues;
  const badRows = parsed.badRows;

  // Credentials are referenced by name; an unknown name is the row's problem, found now rather
  // than as a foreign-key failure halfway through the commit.
  const credentialNames = [...new Set(parsed.rows.map((r) => r.input.credentialName).filter((n): n is string => Boolean(n)))];
  const credentialIds = new Map<string, string>();
  if (credentialNames.length) {
    const found = await db.$queryRaw<Array<{ id: string; name: string }>>`SELECT "id"::text AS "id", "name" FROM "Credential" WHERE "name" = ANY(${credentialNames}::text[])`;
    for (const c of found) credentialIds.set(c.name, c.id);
  }
  let rows = parsed.rows;
  if (credentialIds.size < credentialNames.length) {
    const ok: ImportRow[] = [];
    for (const r of rows) {
      const name = r.input.credentialName;
      if (name && !credentialIds.has(name)) {
        issues.push({ line: r.line, column: "credential", reason: `No credential named "${name}" (create it in Settings > Credentials first)` });
        badRows.set(r.line, r.cells);
      } else ok.push(r);
    }
    rows = ok;
    issues.sort((a, b) => a.line - b.line);
  }

  // Custody refusals are problems of their rows, found now so the preview shows them.
  const custody = await rowCustody(db, isCredentialAdmin(actor), rows, parsed.columns, credentialIds);
  if (custody.refusals.length) {
    const refused = new Set(custody.refusals.map((i) => i.line));
    for (const r of rows) if (refused.has(r.line)) badRows.set(r.line, r.cells);
    rows = rows.filter((r) => !refused.has(r.line));
    issues.push(...custody.refusals);
    issues.sort((a, b) => a.line - b.line);
  }
  const existing = custody.existing;

  const issuesByLine = new Map<number, ImportIssue[]>();
  for (const i of issues) issuesByLine.set(i.line, [...(issuesByLine.get(i.line) ?? []), i]);
  const warningsByLine = new Map(custody.warnings.map((w) => [w.line, [w]]));
  const previewRows: PreviewRow[] = [];
  for (const [line, cells] of [...badRows].sort((a, b) => a[0] - b[0])) {
    if (previewRows.length >= MAX_PREVIEW_ROWS) break;
    previewRows.push({ line, action: null, cells, endpoints: cells.endpoints ?? "", issues: issuesByLine.get(line) ?? [], warnings: [] });
  }
  for (const r of [...rows.filter((r) => warningsByLine.has(r.line)), ...rows.filter((r) => !warningsByLine.has(r.line))]) {
    if (previewRows.length >= MAX_PREVIEW_ROWS) break;
    previewRows.push({
      line: r.line,
      action: existing.has(r.input.name) ? "update" : "create",
      cells: r.cells,
      endpoints: `${r.endpoints.map((e) => `${e.port}/${e.service}`).join(";")}${r.exactEndpoints || !r.endpoints.length ? "" : " (role defaults)"}`,
      issues: [],
      warnings: warningsByLine.get(r.line) ?? [],
    });
  }
  const updates = rows.filter((r) => existing.has(r.input.name)).length;
  return {
    sha256,
    rows,
    columns: parsed.columns,
    custody,
    preview: {
      sha256,
      columns: parsed.columns,
      rowCount: parsed.rowCount,
      validCount: rows.length,
      creates: rows.length - updates,
      updates,
      issueCount: issues.length,
      badRowCount: badRows.size,
      issues: issues.slice(0, MAX_LISTED_ISSUES),
      credentialsDropped: custody.warnings.length,
      warnings: custody.warnings.slice(0, MAX_LISTED_ISSUES),
      rows: previewRows,
    },
  };
}

/** Validates an uploaded file and says what a commit by `actor` would do (custody depends on the role). Writes nothing. */
export async function previewImport(actor: Actor, content: Uint8Array | string): Promise<ImportPreview> {
  return (await analyse(actor, content)).preview;
}

// Host columns an import may set, and the SQL that reads each from the staged row. A column that
// is not in the file keeps the existing host's value on update (a file of name,address,tags does
// not wipe owners); a column that is in the file, even with an empty cell, sets it.
const UPDATABLE: Array<{ column: ImportColumn; sql: string }> = [
  { column: "platform", sql: `"platform"` },
  { column: "roles", sql: `"roles"` },
  { column: "tags", sql: `"tags"` },
  { column: "group", sql: `"group"` },
  { column: "owner", sql: `"owner"` },
  { column: "transport", sql: `"transport"` },
  { column: "port", sql: `"port"` },
  { column: "credential", sql: `"credentialId"` },
];

/**
 * Imports the file: every row or none. `expectedSha256` is the hash previewImport returned; a
 * different file is refused, so a user never commits something they did not preview.
 */
export async function commitImport(actor: Actor, content: Uint8Array | string, expectedSha256: string): Promise<ImportResult> {
  const bytes = toBytes(content);
  if (sha256Hex(bytes) !== expectedSha256.toLowerCase()) {
    throw new InventoryError("This is not the file that was previewed (its SHA-256 differs). Upload it and preview it again.");
  }
  const steps: Record<string, number> = {};
  let mark = performance.now();
  const step = (name: string) => {
    const now = performance.now();
    steps[name] = Math.round(now - mark);
    mark = now;
  };
  const result = await prisma.$transaction(
    async (tx) => {
      // Validate inside the transaction, so a credential deleted since the preview is caught as a
      // row problem and the "update" decisions see the rows this transaction writes over.
      const a = await analyse(actor, bytes, tx);
      if (a.preview.issueCount > 0) throw new ImportRejectedError(a.preview);
      const rows = a.rows;
      const custody = a.custody;
      step("validate");

      // The rows travel as one tab-separated text parameter into temporary tables: validated
      // values contain no tabs or line breaks, and one string crosses Prisma's query layer far
      // faster than a JSON document or 11 arrays of 50,000 elements (measured: ~0.4 s vs ~1.6 s).
      const hostsTsv = rows
        .map((r) =>
          [
            r.input.name,
            r.input.address,
            r.input.platform,
            r.input.roles.join(";"),
            r.input.tags.join(";"),
            r.input.group ?? "",
            r.input.owner ?? "",
            custody.effective.get(r.input.name)!.transport,
            custody.effective.get(r.input.name)!.port ?? "",
            custody.effective.get(r.input.name)!.credentialId ?? "",
          ].join("\t"),
        )
        .join("\n");
      await tx.$executeRaw`
        CREATE TEMP TABLE import_host ON COMMIT DROP AS
        SELECT f[1] AS "name", f[2] AS "address", CAST(f[3] AS "Platform") AS "platform",
               string_to_array(f[4], ';') AS "roles", string_to_array(f[5], ';') AS "tags",
               NULLIF(f[6], '') AS "group", NULLIF(f[7], '') AS "owner", CAST(f[8] AS "Transport") AS "transport",
               CAST(NULLIF(f[9], '') AS int) AS "port", CAST(NULLIF(f[10], '') AS uuid) AS "credentialId"
        FROM (SELECT string_to_array(line, E'\t') AS f FROM string_to_table(${hostsTsv}::text, E'\n') AS line) t`;
      step("stageHosts");

      const present = new Set(a.columns);
      // Transport, port and credential are staged as decided by rowCustody (stored values for
      // absent columns), so they are always written.
      const updatable = UPDATABLE.filter((u) => present.has(u.column) || u.column === "transport" || u.column === "port" || u.column === "credential");
      // A new address, transport or port is a new machine as far as the pinned key is concerned
      // (as in updateHost): pins and the admin's trust decisions go.
      const identityChanged = `("Host"."address", "Host"."transport", "Host"."port") IS DISTINCT FROM (EXCLUDED."address", EXCLUDED."transport", EXCLUDED."port")`;
      const setList = Prisma.raw(
        [
          `"address" = EXCLUDED."address"`,
          ...Object.entries(IDENTITY_RESET).map(([column, reset]) => `"${column}" = CASE WHEN ${identityChanged} THEN ${reset === null ? "NULL" : String(reset)} ELSE "Host"."${column}" END`),
          ...updatable.map((u) => `${u.sql} = EXCLUDED.${u.sql}`),
          `"updatedAt" = now()`,
        ].join(", "),
      );
      // Rows identical to what is stored are left alone: no new updatedAt, counted as unchanged.
      const changed = Prisma.raw(
        `("Host"."address"${updatable.map((u) => `, "Host".${u.sql}`).join("")}) IS DISTINCT FROM (EXCLUDED."address"${updatable.map((u) => `, EXCLUDED.${u.sql}`).join("")})`,
      );

      const [hostCounts] = await tx.$queryRaw<Array<{ created: bigint; updated: bigint }>>`
        WITH upserted AS (
          INSERT INTO "Host" ("id", "name", "address", "platform", "roles", "tags", "group", "owner", "transport", "port", "credentialId", "createdAt", "updatedAt")
          SELECT gen_random_uuid(), "name", "address", "platform", "roles", "tags", "group", "owner", "transport", "port", "credentialId", now(), now()
          FROM import_host
          ON CONFLICT ("name") WHERE "retiredAt" IS NULL DO UPDATE SET ${setList} WHERE ${changed}
          RETURNING "id", (xmax = 0) AS inserted
        ), statuses AS (
          INSERT INTO "HostStatus" ("hostId", "status", "explanation", "lastChangedAt")
          SELECT "id", 'unknown', 'Never scanned', now() FROM upserted WHERE inserted
          ON CONFLICT ("hostId") DO NOTHING
        )
        SELECT count(*) FILTER (WHERE inserted) AS created, count(*) FILTER (WHERE NOT inserted) AS updated FROM upserted`;
      step("upsertHosts");

      // Endpoints: rows that list them get exactly those; the others get their role defaults added.
      const endpointsTsv = rows.flatMap((r) => r.endpoints.map((e) => `${r.input.name}\t${e.port}\t${e.service}\t${e.tlsStart}\t${r.exactEndpoints ? "t" : "f"}`)).join("\n");
      await tx.$executeRaw`
        CREATE TEMP TABLE import_endpoint ON COMMIT DROP AS
        SELECT h."id" AS "hostId", CAST(f[2] AS int) AS "port", f[3] AS "service", CAST(f[4] AS "TlsStart") AS "tlsStart", CAST(f[5] AS boolean) AS "exact"
        FROM (SELECT string_to_array(line, E'\t') AS f FROM string_to_table(${endpointsTsv}::text, E'\n') AS line WHERE line <> '') t
        JOIN "Host" h ON h."name" = f[1] AND h."retiredAt" IS NULL`;
      await tx.$executeRaw`ANALYZE import_endpoint`;
      step("stageEndpoints");
      // Removed, not deleted: the probe results of a dropped endpoint stay as evidence (syncEndpoints).
      const endpointsRemoved = await tx.$executeRaw`
        UPDATE "Endpoint" e SET "removedAt" = now() AT TIME ZONE 'UTC'
        FROM (SELECT DISTINCT "hostId" FROM import_endpoint WHERE "exact") x
        WHERE e."hostId" = x."hostId" AND e."removedAt" IS NULL
          AND NOT EXISTS (SELECT 1 FROM import_endpoint w WHERE w."hostId" = e."hostId" AND w."port" = e."port")`;
      const [exact] = await tx.$queryRaw<Array<{ added: bigint; updated: bigint }>>`
        WITH changed AS (
          INSERT INTO "Endpoint" ("id", "hostId", "port", "service", "tlsStart", "createdAt")
          SELECT gen_random_uuid(), "hostId", "port", "service", "tlsStart", now() FROM import_endpoint WHERE "exact"
          ON CONFLICT ("hostId", "port") WHERE "removedAt" IS NULL DO UPDATE SET "service" = EXCLUDED."service", "tlsStart" = EXCLUDED."tlsStart"
          WHERE ("Endpoint"."service", "Endpoint"."tlsStart") IS DISTINCT FROM (EXCLUDED."service", EXCLUDED."tlsStart")
          RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted) AS added, count(*) FILTER (WHERE NOT inserted) AS updated FROM changed`;
      const defaultsAdded = await tx.$executeRaw`
        INSERT INTO "Endpoint" ("id", "hostId", "port", "service", "tlsStart", "createdAt")
        SELECT gen_random_uuid(), "hostId", "port", "service", "tlsStart", now() FROM import_endpoint WHERE NOT "exact"
        ON CONFLICT ("hostId", "port") WHERE "removedAt" IS NULL DO NOTHING`;
      step("writeEndpoints");

      const created = Number(hostCounts.created);
      const updated = Number(hostCounts.updated);
      const result: ImportResult = {
        sha256: a.sha256,
        rows: rows.length,
        credentialsDropped: custody.changes.filter((c) => c.credentialDropped).length,
        created,
        updated,
        unchanged: rows.length - created - updated,
        endpointsAdded: Number(exact.added) + defaultsAdded,
        endpointsUpdated: Number(exact.updated),
        endpointsRemoved,
      };
      // Every custody change is its own event too, so a host's history shows it (as updateHost's do).
      for (const c of custody.changes) {
        await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "host.custody_change", target: `host:${c.host}`, details: { via: "import", sha256: a.sha256, ...c } });
      }
      await recordAuditInTx(tx, {
        actor: actor.email,
        actorId: actor.id,
        action: "host.import",
        target: `hosts:${rows.length}`,
        details: {
          ...result,
          custodyChanges: custody.changes.slice(0, MAX_LISTED_CUSTODY).map((c) => ({ host: c.host, changed: c.changed, credentialDropped: c.credentialDropped })),
          custodyChangesTruncated: custody.changes.length > MAX_LISTED_CUSTODY,
        },
      });
      return result;
    },
    { timeout: COMMIT_TIMEOUT_MS, maxWait: 10_000 },
  );
  step("audit+commit");
  forgetTagAndGroupChoices();
  // Fresh planner statistics after a bulk load. Without them Postgres guessed ~400 endpoints per
  // host on a new 50,000-host database, costed the list and export queries high enough to JIT-
  // compile every page (~300 ms each, 13 s per export) until autovacuum caught up.
  if (result.created + result.endpointsAdded + result.endpointsRemoved >= ANALYZE_AFTER_ROWS) {
    await prisma.$executeRaw`ANALYZE "Host", "HostStatus", "Endpoint"`;
    step("analyze");
  }
  logger.info({ import: result, stepsMs: steps }, "host import committed");
  return result;
}
