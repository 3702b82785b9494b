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
import type { Role } from "../auth/roles";
import { outOfScopeMessage, scopeMatch, type CredentialScope } from "../credentials/scope-match";
import { decideCustody, IDENTITY_RESET, type CustodyField } from "./custody";
import { isCredentialAdmin } from "./hosts";
import { recordAuditInTx } from "../audit/log";
import { logger } from "../log";
import { CSV_MAX_BYTES, CsvSyntaxError, decodeCsvBytes } from "./csv";
import { parseImportCsv, type ImportColumn, type ImportIssue, type ImportRow } from "./import-rows";
import { forgetTagAndGroupChoices, InventoryError } from "./hosts";

export type { ImportIssue } from "./import-rows";

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
  /** Rows with problems first (up to the cap), then the first valid rows. */
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

interface Actor {
  id: string;
  email: string;
  /** Only an admin attaches credentials (lib/inventory/custody.ts); absent counts as no admin. */
  role?: Role;
}

/** One host whose address, transport, port or credential the import changed, for the audit. */
export interface CustodyChange {
  host: string;
  changed: CustodyField[];
  credentialDropped: boolean;
  from: { address: string; transport: string; port: number | null; credential: string | null };
  to: { address: string; transport: string; port: number | null; credential: string | null };
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
  credentialIds: Map<string, string>;
  columns: ImportColumn[];
}

/** Parses, validates and checks the file against the database. Reads only. */
async function analyse(content: Uint8Array | string, db: Pick<typeof prisma, "$queryRaw"> = prisma): Promise<Analysis> {
  const bytes = toBytes(content);
  const sha256 = sha256Hex(bytes);
  let text: string;
  try {
    text = decodeCsvBytes(bytes, CSV_MAX_BYTES);
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    const issue = { line: err.line, column: null, reason: err.message.replace(/^Line \d+: /, "") };
    return { sha256, rows: [], credentialIds: new Map(), columns: [], preview: { sha256, columns: [], rowCount: 0, validCount: 0, creates: 0, updates: 0, issueCount: 1, badRowCount: 0, issues: [issue], rows: [] } };
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

  const existing = new Set<string>();
  if (rows.length) {
    const names = rows.map((r) => r.input.name);
    const found = await db.$queryRaw<Array<{ name: string }>>`SELECT h."name" FROM "Host" h JOIN unnest(${names}::text[]) AS n("name") ON n."name" = h."name" WHERE h."retiredAt" IS NULL`;
    for (const f of found) existing.add(f.name);
  }

  const issuesByLine = new Map<number, ImportIssue[]>();
  for (const i of issues) issuesByLine.set(i.line, [...(issuesByLine.get(i.line) ?? []), i]);
  const previewRows: PreviewRow[] = [];
  for (const [line, cells] of badRows) {
    if (previewRows.length >= MAX_PREVIEW_ROWS) break;
    previewRows.push({ line, action: null, cells, endpoints: cells.endpoints ?? "", issues: issuesByLine.get(line) ?? [] });
  }
  for (const r of rows) {
    if (previewRows.length >= MAX_PREVIEW_ROWS) break;
    previewRows.push({
      line: r.line,
      action: existing.has(r.input.name) ? "update" : "create",
      cells: r.cells,
      endpoints: `${r.endpoints.map((e) => `${e.port}/${e.service}`).join(";")}${r.exactEndpoints || !r.endpoints.length ? "" : " (role defaults)"}`,
      issues: [],
    });
  }
  const updates = rows.filter((r) => existing.has(r.input.name)).length;
  return {
    sha256,
    rows,
    credentialIds,
    columns: parsed.columns,
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
      rows: previewRows,
    },
  };
}

/** Validates an uploaded file and says what a commit would do. Writes nothing. */
export async function previewImport(content: Uint8Array | string): Promise<ImportPreview> {
  return (await analyse(content)).preview;
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

interface StoredCustody {
  name: string;
  address: string;
  transport: string;
  port: number | null;
  credentialId: string | null;
}

/**
 * What each row does to the host's credential (lib/inventory/custody.ts), decided as in
 * updateHost. Returns per row the transport, port and credential to store (a column absent
 * from the file keeps the stored value) and the custody changes to audit. Throws for rows an
 * actor may not import (attaching a credential as a non-admin, a credential outside its scope).
 */
async function importCustody(tx: Pick<typeof prisma, "$queryRaw">, actor: Actor, rows: ImportRow[], columns: readonly ImportColumn[], credentialIds: Map<string, string>) {
  const present = new Set(columns);
  const names = rows.map((r) => r.input.name);
  const stored = new Map(
    (
      await tx.$queryRaw<StoredCustody[]>`
        SELECT h.name, h.address, h.transport::text AS transport, h.port, h."credentialId"::text AS "credentialId"
        FROM "Host" h JOIN unnest(${names}::text[]) AS n("name") ON n."name" = h."name"`
    ).map((h) => [h.name, h]),
  );
  const credentials = await tx.$queryRaw<Array<CredentialScope & { id: string; name: string }>>`
    SELECT id::text AS id, name, "scopeHosts", "scopeGroups", "scopeCidrs" FROM "Credential"`;
  const byId = new Map(credentials.map((c) => [c.id, c]));
  const admin = isCredentialAdmin(actor);
  const refusals: string[] = [];
  const changes: CustodyChange[] = [];
  const effective = new Map<string, { transport: string; port: number | null; credentialId: string | null; identityReset: boolean }>();
  for (const r of rows) {
    const before = stored.get(r.input.name) ?? null;
    const wanted = {
      address: r.input.address,
      transport: present.has("transport") || !before ? r.input.transport : before.transport,
      port: present.has("port") || !before ? (r.input.port ?? null) : before.port,
      credentialId: present.has("credential") || !before ? (r.input.credentialName ? (credentialIds.get(r.input.credentialName) ?? null) : null) : before.credentialId,
    };
    const d = decideCustody(before, wanted, admin);
    if (d.refusal) refusals.push(`line ${r.line} (${r.input.name}): ${d.refusal}`);
    const credential = d.credentialId ? byId.get(d.credentialId) : undefined;
    if (d.checkScope && credential && !scopeMatch(credential, { name: r.input.name, group: r.input.group ?? null, address: r.input.address })) {
      refusals.push(`line ${r.line}: ${outOfScopeMessage(credential.name, { name: r.input.name, group: r.input.group ?? null, address: r.input.address }, credential)}`);
    }
    effective.set(r.input.name, { transport: wanted.transport, port: wanted.port, credentialId: d.credentialId, identityReset: d.identityReset });
    if (before && (d.changed.length || d.credentialDropped)) {
      const nameOf = (id: string | null) => (id ? (byId.get(id)?.name ?? null) : null);
      changes.push({
        host: r.input.name,
        changed: d.changed,
        credentialDropped: d.credentialDropped,
        from: { address: before.address, transport: before.transport, port: before.port, credential: nameOf(before.credentialId) },
        to: { address: wanted.address, transport: wanted.transport, port: wanted.port, credential: nameOf(d.credentialId) },
      });
    }
  }
  if (refusals.length) {
    throw new InventoryError(`Nothing was imported: ${refusals.length} row${refusals.length === 1 ? "" : "s"} may not be imported by you: ${refusals.slice(0, 5).join("; ")}${refusals.length > 5 ? "; ..." : ""}`);
  }
  return { effective, changes };
}

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
      const a = await analyse(bytes, tx);
      if (a.preview.issueCount > 0) throw new ImportRejectedError(a.preview);
      const rows = a.rows;
      const custody = await importCustody(tx, actor, rows, a.columns, a.credentialIds);
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
      // Transport, port and credential are staged as decided by importCustody (stored values for
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
