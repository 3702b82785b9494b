import "server-only";
// CSV host import: preview (validate, read-only) and commit (all rows or none, in one
// transaction, set-based SQL).
//
// Both read the file as a stream (issue 12: 500,000 rows, ~70 MiB, in a web process whose heap
// is capped at 192 MB), inside the transaction that will write it:
//  1. each record is parsed (lib/inventory/csv.ts) and validated as it arrives
//     (import-rows.ts ImportRowReader); every 5,000 rows, their credentials and custody are
//     checked against the database (import-custody.ts, as for one host) and the rows are staged
//     into a temporary table, so the web process holds one batch, not the file;
//  2. at the end, names repeated in the file are found in SQL over the staging table, and the
//     SHA-256 of what arrived is compared with the one the preview returned;
//  3. only a file without a single problem is written: one set-based upsert from the staging
//     tables into Host, HostStatus and Endpoint, and one summary audit event for the import.
// Nothing reaches Host or Endpoint before every row has been validated, and the temporary tables
// go with the transaction (ON COMMIT DROP), also when it rolls back.
//
// Nothing parsed is kept between preview and commit: the commit sends the same file again with
// the SHA-256 the preview returned, and is parsed and validated again from scratch. The hash only
// makes sure the user commits the file they looked at.
import { createHash } from "node:crypto";
import { prisma, type Tx } from "../db";
import { Prisma } from "../generated/prisma/client";
import { IDENTITY_RESET } from "./custody";
import { isCredentialAdmin } from "./hosts";
import { rowCustody, type CustodyChange } from "./import-custody";
import { recordAuditInTx } from "../audit/log";
import { logger } from "../log";
import { CSV_MAX_BYTES, CsvByteStream, CsvSyntaxError } from "./csv";
import { duplicateNameReason, ImportRowReader, type ImportColumn, type ImportIssue, type ImportRow } from "./import-rows";
import { forgetTagAndGroupChoices, InventoryError } from "./hosts";
import type { Actor } from "../auth/actor";

export type { ImportIssue } from "./import-rows";
export type { CustodyChange } from "./import-custody";

/** The preview lists at most this many problems and rows; the counts are always complete. */
const MAX_LISTED_ISSUES = 500;
const MAX_PREVIEW_ROWS = 200;
/** Rows validated against the database and staged per round trip. */
const STAGE_BATCH_ROWS = 5_000;
/** Staged batches upserted into Host per statement: progress every 50,000 hosts. */
const WRITE_BATCHES_PER_STATEMENT = 10;
/** A source held in memory is fed to the parser in pieces of this size, as an upload arrives. */
const MEMORY_CHUNK_BYTES = 1024 * 1024;
// The transaction spans the upload (it is read inside it) and the write: 500,000 rows take about
// a minute here (BENCHMARKS.md). The limit only stops a stuck transaction or a stalled upload.
const IMPORT_TIMEOUT_MS = 15 * 60_000;
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

/** Where an import stands, for a progress bar: sent after every staged batch and every write step. */
export interface ImportProgress {
  /** reading: parsing and validating as the file arrives; checking: the checks over the whole file; writing: into the inventory. */
  phase: "reading" | "checking" | "writing";
  /** Bytes of the file read so far. */
  bytes: number;
  /** Data rows parsed so far. */
  rows: number;
  /** Rows through every check so far (the database's included). */
  validated: number;
  /** Problems found so far. */
  problems: number;
  /** Hosts written so far, of `toWrite` (writing phase). */
  written: number;
  toWrite: number;
}

export interface ImportOptions {
  onProgress?: (progress: ImportProgress) => void;
}

/** The file: in memory, or as it arrives (a request body). */
export type ImportSource = Uint8Array | string | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function* chunksOf(source: ImportSource): AsyncGenerator<Uint8Array> {
  if (typeof source === "string") source = Buffer.from(source, "utf8");
  if (source instanceof Uint8Array) {
    for (let at = 0; at < source.byteLength; at += MEMORY_CHUNK_BYTES) yield source.subarray(at, at + MEMORY_CHUNK_BYTES);
    return;
  }
  if ("getReader" in source) {
    const reader = source.getReader();
    let done = false;
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) {
          done = true;
          return;
        }
        yield next.value;
      }
    } finally {
      // Stopped early (a syntax error, the size cap): the rest of the upload is not wanted.
      if (!done) await reader.cancel().catch(() => {});
    }
  }
  yield* source;
}

interface Analysis {
  sha256: string;
  bytes: number;
  preview: ImportPreview;
  columns: ImportColumn[];
  changes: CustodyChange[];
}

/** Problems in file order, counted in full, the first MAX_LISTED_ISSUES kept. */
class IssueList {
  count = 0;
  private kept: ImportIssue[] = [];
  add(i: ImportIssue) {
    this.count++;
    this.kept.push(i);
    if (this.kept.length > 4 * MAX_LISTED_ISSUES) this.trim();
  }
  first(): ImportIssue[] {
    this.trim();
    return this.kept;
  }
  private trim() {
    // Stable: the problems of one line stay in the order they were found.
    this.kept.sort((a, b) => a.line - b.line);
    this.kept.length = Math.min(this.kept.length, MAX_LISTED_ISSUES);
  }
}

const tsvBool = (b: boolean) => (b ? "t" : "f");

/**
 * Creates the staging tables, then reads, validates and stages the whole file as `actor` would
 * import it, inside `tx`. Writes nothing but the temporary tables.
 */
async function analyse(actor: Actor, source: ImportSource, tx: Tx, opts: ImportOptions & { expectedSha256?: string }): Promise<Analysis> {
  // "bad": the row has a problem found while reading; "dup": its name is on an earlier row. Both
  // are staged (name and line only) so that a later row can be told it repeats their name.
  await tx.$executeRaw`
    CREATE TEMP TABLE import_host (
      "line" int NOT NULL, "batch" int NOT NULL, "bad" boolean NOT NULL, "existing" boolean NOT NULL,
      "name" text NOT NULL, "address" text, "platform" "Platform", "roles" text[], "tags" text[], "group" text, "owner" text,
      "transport" "Transport", "port" int, "credentialId" uuid,
      "dup" boolean NOT NULL DEFAULT false, "dupLine" int, "dupName" text
    ) ON COMMIT DROP`;
  await tx.$executeRaw`CREATE TEMP TABLE import_endpoint_row ("name" text NOT NULL, "port" int NOT NULL, "service" text NOT NULL, "tlsStart" "TlsStart" NOT NULL, "exact" boolean NOT NULL) ON COMMIT DROP`;

  const isAdmin = isCredentialAdmin(actor);
  const issues = new IssueList();
  const badLines = new Set<number>();
  const badCells = new Map<number, Partial<Record<ImportColumn, string>>>();
  const reader = new ImportRowReader((i) => issues.add(i), { duplicates: false });
  const csv = new CsvByteStream({ maxBytes: CSV_MAX_BYTES });
  const hash = createHash("sha256");
  // Per credential name: its id, or null when there is none by that name.
  const credentialIdByName = new Map<string, string | null>();
  const changes: CustodyChange[] = [];
  let warningCount = 0;
  const warnings: ImportIssue[] = [];
  // The first valid rows and the first rows with warnings, for the preview table.
  const shownValid: PreviewRow[] = [];
  const shownWarned: PreviewRow[] = [];
  let batch: ImportRow[] = [];
  // Rows whose name is valid but which have a problem: staged for the duplicate check only.
  let badNames: Array<{ line: number; name: string }> = [];
  let batchNo = 0;
  let validated = 0;
  let stagedGood = 0;
  let stagedExisting = 0;
  let lastReport = 0;
  const progress = (phase: ImportProgress["phase"], written = 0, toWrite = 0) =>
    opts.onProgress?.({ phase, bytes: csv.bytes, rows: reader.rowCount, validated, problems: issues.count, written, toWrite });

  const markBad = (line: number, cells: Partial<Record<ImportColumn, string>>) => {
    badLines.add(line);
    if (badCells.size < MAX_PREVIEW_ROWS) badCells.set(line, cells);
  };

  const flush = async () => {
    if (!batch.length && !badNames.length) return;
    const rows = batch;
    const named = badNames;
    const namedByReader = named.length;
    batch = [];
    badNames = [];
    const wanted = [...new Set(rows.map((r) => r.input.credentialName).filter((n): n is string => Boolean(n) && !credentialIdByName.has(n!)))];
    if (wanted.length) {
      const found = await tx.$queryRaw<Array<{ id: string; name: string }>>`SELECT "id"::text AS "id", "name" FROM "Credential" WHERE "name" = ANY(${wanted}::text[])`;
      for (const n of wanted) credentialIdByName.set(n, null);
      for (const c of found) credentialIdByName.set(c.name, c.id);
    }
    // Credentials are referenced by name; an unknown name is the row's problem, found now rather
    // than as a foreign-key failure halfway through the commit.
    const known: ImportRow[] = [];
    for (const r of rows) {
      const name = r.input.credentialName;
      if (name && !credentialIdByName.get(name)) {
        issues.add({ line: r.line, column: "credential", reason: `No credential named "${name}" (create it in Settings > Credentials first)` });
        markBad(r.line, r.cells);
        named.push({ line: r.line, name: r.input.name });
      } else known.push(r);
    }
    const credentialIds = new Map([...credentialIdByName].filter((e): e is [string, string] => e[1] !== null));
    // Custody refusals are problems of their rows, found now so the preview shows them.
    const custody = await rowCustody(tx, isAdmin, known, reader.columns, credentialIds);
    const refused = new Set(custody.refusals.map((i) => i.line));
    for (const i of custody.refusals) issues.add(i);
    const warned = new Map(custody.warnings.map((w) => [w.line, w]));
    warningCount += custody.warnings.length;
    for (const w of custody.warnings) if (warnings.length < MAX_LISTED_ISSUES) warnings.push(w);
    changes.push(...custody.changes);

    const lines: string[] = [];
    const endpointLines: string[] = [];
    for (const r of known) {
      if (refused.has(r.line)) {
        markBad(r.line, r.cells);
        named.push({ line: r.line, name: r.input.name });
        continue;
      }
      const existing = custody.existing.has(r.input.name);
      const eff = custody.effective.get(r.input.name)!;
      lines.push(
        [r.line, batchNo, "f", tsvBool(existing), r.input.name, r.input.address, r.input.platform, r.input.roles.join(";"), r.input.tags.join(";"), r.input.group ?? "", r.input.owner ?? "", eff.transport, eff.port ?? "", eff.credentialId ?? ""].join("\t"),
      );
      for (const e of r.endpoints) endpointLines.push(`${r.input.name}\t${e.port}\t${e.service}\t${e.tlsStart}\t${tsvBool(r.exactEndpoints)}`);
      stagedGood++;
      if (existing) stagedExisting++;
      const w = warned.get(r.line);
      const shown = w ? shownWarned : shownValid;
      if (shown.length < MAX_PREVIEW_ROWS) {
        shown.push({
          line: r.line,
          action: existing ? "update" : "create",
          cells: r.cells,
          endpoints: `${r.endpoints.map((e) => `${e.port}/${e.service}`).join(";")}${r.exactEndpoints || !r.endpoints.length ? "" : " (role defaults)"}`,
          issues: [],
          warnings: w ? [w] : [],
        });
      }
    }
    for (const b of named) lines.push([b.line, batchNo, "t", "f", b.name, "", "", "", "", "", "", "", "", ""].join("\t"));
    // One tab-separated text parameter per batch: validated values contain no tabs or line
    // breaks, and one string crosses Prisma's query layer far faster than a JSON document or 14
    // arrays (measured for 50,000 rows: ~0.4 s vs ~1.6 s).
    if (lines.length) {
      await tx.$executeRaw`
        INSERT INTO import_host ("line", "batch", "bad", "existing", "name", "address", "platform", "roles", "tags", "group", "owner", "transport", "port", "credentialId")
        SELECT CAST(f[1] AS int), CAST(f[2] AS int), CAST(f[3] AS boolean), CAST(f[4] AS boolean), f[5], NULLIF(f[6], ''), CAST(NULLIF(f[7], '') AS "Platform"),
               string_to_array(f[8], ';'), string_to_array(f[9], ';'), NULLIF(f[10], ''), NULLIF(f[11], ''), CAST(NULLIF(f[12], '') AS "Transport"),
               CAST(NULLIF(f[13], '') AS int), CAST(NULLIF(f[14], '') AS uuid)
        FROM (SELECT string_to_array(line, E'\t') AS f FROM string_to_table(${lines.join("\n")}::text, E'\n') AS line) t`;
    }
    if (endpointLines.length) {
      await tx.$executeRaw`
        INSERT INTO import_endpoint_row ("name", "port", "service", "tlsStart", "exact")
        SELECT f[1], CAST(f[2] AS int), f[3], CAST(f[4] AS "TlsStart"), CAST(f[5] AS boolean)
        FROM (SELECT string_to_array(line, E'\t') AS f FROM string_to_table(${endpointLines.join("\n")}::text, E'\n') AS line) t`;
    }
    batchNo++;
    validated += rows.length + namedByReader;
  };

  const read = async (records: ReturnType<CsvByteStream["push"]>) => {
    for (const rec of records) {
      const r = reader.read(rec);
      if (r.kind === "row") batch.push(r.row);
      else if (r.kind === "bad") {
        if (!reader.headerRejected) markBad(r.line, r.cells);
        if (r.name) badNames.push({ line: r.line, name: r.name });
        else validated++;
      }
      if (batch.length + badNames.length >= STAGE_BATCH_ROWS) await flush();
      if (reader.rowCount - lastReport >= STAGE_BATCH_ROWS) {
        lastReport = reader.rowCount;
        progress("reading");
      }
    }
  };

  let syntaxFailed = false;
  try {
    for await (const chunk of chunksOf(source)) {
      hash.update(chunk);
      await read(csv.push(chunk));
    }
    await read(csv.end());
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    // The records after a syntax error cannot be told apart: the problems so far, and this one.
    syntaxFailed = true;
    issues.add({ line: err.line, column: null, reason: err.message.replace(/^Line \d+: /, "") });
  }
  await flush();
  if (!syntaxFailed) reader.finish();
  const sha256 = hash.digest("hex");
  if (opts.expectedSha256 !== undefined && sha256 !== opts.expectedSha256.toLowerCase()) {
    throw new InventoryError("This is not the file that was previewed (its SHA-256 differs). Upload it and preview it again.");
  }
  progress("checking");

  // Names repeated in the file (case-insensitively: DNS names are), each row after the first a
  // problem that names the first.
  const duplicates = await tx.$executeRaw`
    WITH d AS (
      SELECT "line", first_value("line") OVER w AS "firstLine", first_value("name") OVER w AS "firstName", row_number() OVER w AS rn
      FROM import_host WINDOW w AS (PARTITION BY lower("name") ORDER BY "line")
    )
    UPDATE import_host h SET "dup" = true, "dupLine" = d."firstLine", "dupName" = d."firstName" FROM d WHERE d."line" = h."line" AND d.rn > 1`;
  let validCount = stagedGood;
  let updates = stagedExisting;
  let dupLines = new Set<number>();
  let dupOnlyRows = 0;
  if (duplicates > 0) {
    const listed = await tx.$queryRaw<Array<{ line: number; name: string; dupLine: number; dupName: string; bad: boolean; address: string | null }>>`
      SELECT "line", "name", "dupLine", "dupName", "bad", "address" FROM import_host WHERE "dup" ORDER BY "line" LIMIT ${MAX_LISTED_ISSUES}`;
    for (const d of listed) {
      issues.add({ line: d.line, column: "name", reason: duplicateNameReason(d.name, d.dupName, d.dupLine) });
      if (!d.bad && badCells.size < MAX_PREVIEW_ROWS) badCells.set(d.line, { name: d.name, address: d.address ?? "" });
    }
    issues.count += duplicates - listed.length;
    const [c] = await tx.$queryRaw<Array<{ valid: bigint; updates: bigint; dupOnly: bigint }>>`
      SELECT count(*) FILTER (WHERE NOT "bad" AND NOT "dup") AS "valid", count(*) FILTER (WHERE NOT "bad" AND NOT "dup" AND "existing") AS "updates",
             count(*) FILTER (WHERE "dup" AND NOT "bad") AS "dupOnly"
      FROM import_host`;
    validCount = Number(c.valid);
    updates = Number(c.updates);
    dupOnlyRows = Number(c.dupOnly);
    const shownLines = [...shownValid, ...shownWarned].map((r) => r.line);
    dupLines = new Set((await tx.$queryRaw<Array<{ line: number }>>`SELECT "line" FROM import_host WHERE "dup" AND "line" = ANY(${shownLines}::int[])`).map((r) => r.line));
  }

  const listedIssues = issues.first();
  const issuesByLine = new Map<number, ImportIssue[]>();
  for (const i of listedIssues) issuesByLine.set(i.line, [...(issuesByLine.get(i.line) ?? []), i]);
  const previewRows: PreviewRow[] = [];
  for (const [line, cells] of [...badCells].sort((a, b) => a[0] - b[0])) {
    if (previewRows.length >= MAX_PREVIEW_ROWS) break;
    previewRows.push({ line, action: null, cells, endpoints: cells.endpoints ?? "", issues: issuesByLine.get(line) ?? [], warnings: [] });
  }
  for (const r of [...shownWarned, ...shownValid]) {
    if (previewRows.length >= MAX_PREVIEW_ROWS) break;
    if (!dupLines.has(r.line)) previewRows.push(r);
  }
  return {
    sha256,
    bytes: csv.bytes,
    columns: reader.columns,
    changes,
    preview: {
      sha256,
      columns: reader.columns,
      rowCount: reader.rowCount,
      validCount,
      creates: validCount - updates,
      updates,
      issueCount: issues.count,
      badRowCount: badLines.size + dupOnlyRows,
      issues: listedIssues,
      credentialsDropped: warningCount,
      warnings,
      rows: previewRows,
    },
  };
}

/** Validates a file and says what a commit by `actor` would do (custody depends on the role). Writes nothing. */
export async function previewImport(actor: Actor, source: ImportSource, opts: ImportOptions = {}): Promise<ImportPreview> {
  // A transaction for the staging tables; it writes nothing else, and they go with it.
  return prisma.$transaction(async (tx) => (await analyse(actor, source, tx, opts)).preview, { timeout: IMPORT_TIMEOUT_MS, maxWait: 10_000 });
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
export async function commitImport(actor: Actor, source: ImportSource, expectedSha256: string, opts: ImportOptions = {}): Promise<ImportResult> {
  if (!/^[0-9a-f]{64}$/i.test(expectedSha256)) throw new InventoryError("This is not the file that was previewed (its SHA-256 differs). Upload it and preview it again.");
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
      const a = await analyse(actor, source, tx, { ...opts, expectedSha256 });
      if (a.preview.issueCount > 0) throw new ImportRejectedError(a.preview);
      step("readAndValidate");
      const toWrite = a.preview.validCount;
      const report = (written: number) => opts.onProgress?.({ phase: "writing", bytes: a.bytes, rows: a.preview.rowCount, validated: a.preview.rowCount, problems: 0, written, toWrite });
      report(0);

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

      // In slices of staged batches, for progress; still one transaction.
      const [{ batches }] = await tx.$queryRaw<Array<{ batches: number }>>`SELECT COALESCE(max("batch") + 1, 0)::int AS "batches" FROM import_host`;
      let created = 0;
      let updated = 0;
      let written = 0;
      for (let from = 0; from < batches; from += WRITE_BATCHES_PER_STATEMENT) {
        const to = from + WRITE_BATCHES_PER_STATEMENT;
        const [counts] = await tx.$queryRaw<Array<{ created: bigint; updated: bigint; rows: bigint }>>`
          WITH slice AS (
            SELECT * FROM import_host WHERE "batch" >= ${from} AND "batch" < ${to} AND NOT "bad" AND NOT "dup"
          ), upserted AS (
            INSERT INTO "Host" ("id", "name", "address", "platform", "roles", "tags", "group", "owner", "transport", "port", "credentialId", "createdAt", "updatedAt")
            SELECT gen_random_uuid(), "name", "address", "platform", "roles", "tags", "group", "owner", "transport", "port", "credentialId", now(), now()
            FROM slice
            ON CONFLICT ("name") WHERE "retiredAt" IS NULL DO UPDATE SET ${setList} WHERE ${changed}
            RETURNING "id", (xmax = 0) AS inserted
          ), statuses AS (
            INSERT INTO "HostStatus" ("hostId", "status", "explanation", "lastChangedAt")
            SELECT "id", 'unknown', 'Never scanned', now() FROM upserted WHERE inserted
            ON CONFLICT ("hostId") DO NOTHING
          )
          SELECT count(*) FILTER (WHERE inserted) AS created, count(*) FILTER (WHERE NOT inserted) AS updated, (SELECT count(*) FROM slice) AS rows FROM upserted`;
        created += Number(counts.created);
        updated += Number(counts.updated);
        written += Number(counts.rows);
        report(written);
      }
      step("upsertHosts");

      // Endpoints: rows that list them get exactly those; the others get their role defaults added.
      await tx.$executeRaw`
        CREATE TEMP TABLE import_endpoint ON COMMIT DROP AS
        SELECT h."id" AS "hostId", e."port", e."service", e."tlsStart", e."exact"
        FROM import_endpoint_row e JOIN "Host" h ON h."name" = e."name" AND h."retiredAt" IS NULL`;
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

      const rows = a.preview.validCount;
      const result: ImportResult = {
        sha256: a.sha256,
        rows,
        credentialsDropped: a.changes.filter((c) => c.credentialDropped).length,
        created,
        updated,
        unchanged: rows - created - updated,
        endpointsAdded: Number(exact.added) + defaultsAdded,
        endpointsUpdated: Number(exact.updated),
        endpointsRemoved,
      };
      // Every custody change is its own event too, so a host's history shows it (as updateHost's do).
      for (const c of a.changes) {
        await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "host.custody_change", target: `host:${c.host}`, details: { via: "import", sha256: a.sha256, ...c } });
      }
      await recordAuditInTx(tx, {
        actor: actor.email,
        actorId: actor.id,
        action: "host.import",
        target: `hosts:${rows}`,
        details: {
          ...result,
          custodyChanges: a.changes.slice(0, MAX_LISTED_CUSTODY).map((c) => ({ host: c.host, changed: c.changed, credentialDropped: c.credentialDropped })),
          custodyChangesTruncated: a.changes.length > MAX_LISTED_CUSTODY,
        },
      });
      return result;
    },
    { timeout: IMPORT_TIMEOUT_MS, maxWait: 10_000 },
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
