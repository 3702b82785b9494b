// CSV rows -> validated host inputs, with every problem located (line, column, reason) so the
// preview can point at the cell to fix. Pure: the database checks (credentials exist, which
// names already exist) happen in import.ts.
import { defaultEndpoints, HostInput, type EndpointSpec, type HostInputValue } from "./model";
import { CsvSyntaxError, parseCsv, unguardCell, type CsvParseOptions, type CsvRecord } from "./csv";

/** The import columns, in the order the template and the export write them. */
export const IMPORT_COLUMNS = ["name", "address", "platform", "roles", "tags", "group", "owner", "transport", "port", "credential", "endpoints"] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];
const REQUIRED_COLUMNS: readonly ImportColumn[] = ["name", "address"];
/**
 * Columns the export adds that describe scan results, not inventory. An exported file can be
 * edited and imported back, so they are recognised and ignored rather than refused.
 */
export const EXPORT_ONLY_COLUMNS = ["status", "explanation", "firstfailingat", "lastscanat"] as const;

/** Which HostInput field each column feeds (error paths map back through it). */
const FIELD_OF: Record<ImportColumn, keyof HostInputValue> = {
  name: "name",
  address: "address",
  platform: "platform",
  roles: "roles",
  tags: "tags",
  group: "group",
  owner: "owner",
  transport: "transport",
  port: "port",
  credential: "credentialName",
  endpoints: "endpoints",
};
const COLUMN_OF = Object.fromEntries(Object.entries(FIELD_OF).map(([c, f]) => [f, c])) as Record<string, ImportColumn>;

export interface ImportIssue {
  /** 1-based line in the file (the header is line 1 unless blank lines precede it). */
  line: number;
  column: string | null;
  reason: string;
}

export interface ImportRow {
  line: number;
  input: HostInputValue;
  /** true: the row lists endpoints, so the host gets exactly those; false: role defaults are added. */
  exactEndpoints: boolean;
  endpoints: EndpointSpec[];
  cells: Partial<Record<ImportColumn, string>>;
}

export interface ParsedImport {
  columns: ImportColumn[];
  rows: ImportRow[];
  /** Raw cells of every data row (valid or not), for the preview table. */
  rowCount: number;
  issues: ImportIssue[];
  /** Lines that have at least one issue, with their raw cells. */
  badRows: Map<number, Partial<Record<ImportColumn, string>>>;
}

/** What ImportRowReader makes of one record. */
export type ReadRecord =
  | { kind: "header" }
  | { kind: "row"; row: ImportRow }
  /** A row with problems (already reported); `name` when its name itself is valid, so later rows can be told they duplicate it. */
  | { kind: "bad"; line: number; name?: string; cells: Partial<Record<ImportColumn, string>> };

/**
 * The file's records -> header, then validated rows, one record at a time, so an import of any
 * size validates as it streams. Every problem goes to `report` with its line. `duplicates`: find
 * names repeated in the file here (a Map of every name: the pure parseImportCsv); the streaming
 * import leaves that to SQL over its staging table (lib/inventory/import.ts), so 500,000 names
 * are not held in the web process's heap.
 */
export class ImportRowReader {
  columns: ImportColumn[] = [];
  /** Data rows seen (valid or not). */
  rowCount = 0;
  /** The header had problems: no row is validated (what each cell means is unknown). */
  headerRejected = false;
  private header: CsvRecord | null = null;
  private positions: Array<ImportColumn | null> = [];
  private readonly firstLineOfName: Map<string, { line: number; name: string }> | null;

  constructor(
    private readonly report: (issue: ImportIssue) => void,
    opts: { duplicates: boolean },
  ) {
    this.firstLineOfName = opts.duplicates ? new Map() : null;
  }

  get headerLine(): number | null {
    return this.header?.line ?? null;
  }

  read(rec: CsvRecord): ReadRecord {
    if (!this.header) {
      this.readHeader(rec);
      return { kind: "header" };
    }
    this.rowCount++;
    if (this.headerRejected) return { kind: "bad", line: rec.line, cells: {} };
    const header = this.header;
    const cells: Partial<Record<ImportColumn, string>> = {};
    this.positions.forEach((col, idx) => {
      if (col && idx < rec.fields.length) cells[col] = unguardCell(rec.fields[idx]);
    });
    const rowIssues: ImportIssue[] = [];
    if (rec.fields.length !== header.fields.length) {
      rowIssues.push({ line: rec.line, column: null, reason: `The row has ${rec.fields.length} field${rec.fields.length === 1 ? "" : "s"}, the header has ${header.fields.length} (a comma inside a value must be quoted: "a,b")` });
    }
    const candidate: Record<string, string | undefined> = {};
    for (const col of this.columns) {
      const v = cells[col]?.trim();
      candidate[FIELD_OF[col]] = v === "" ? undefined : v;
    }
    const parsed = HostInput.safeParse(candidate);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? "");
        rowIssues.push({ line: rec.line, column: COLUMN_OF[field] ?? null, reason: issue.message });
      }
    } else if (this.firstLineOfName) {
      const key = parsed.data.name.toLowerCase();
      const first = this.firstLineOfName.get(key);
      if (first) rowIssues.push({ line: rec.line, column: "name", reason: duplicateNameReason(parsed.data.name, first.name, first.line) });
      else this.firstLineOfName.set(key, { line: rec.line, name: parsed.data.name });
    }
    if (rowIssues.length || !parsed.success) {
      for (const i of rowIssues) this.report(i);
      return { kind: "bad", line: rec.line, name: parsed.success ? parsed.data.name : undefined, cells };
    }
    const exactEndpoints = Boolean(parsed.data.endpoints?.length);
    return { kind: "row", row: { line: rec.line, input: parsed.data, exactEndpoints, endpoints: exactEndpoints ? parsed.data.endpoints! : defaultEndpoints(parsed.data.roles), cells } };
  }

  /** After the last record: the problems of a file that is empty or has no rows. */
  finish(): void {
    if (!this.header) this.report({ line: 1, column: null, reason: `The file is empty. The first line must name the columns: ${IMPORT_COLUMNS.join(",")}` });
    else if (this.rowCount === 0 && !this.headerRejected) this.report({ line: this.header.line + 1, column: null, reason: "The file has a header but no hosts" });
  }

  private readHeader(header: CsvRecord): void {
    this.header = header;
    const issues: ImportIssue[] = [];
    const seen = new Set<string>();
    for (const raw of header.fields) {
      const name = raw.trim().toLowerCase();
      if ((IMPORT_COLUMNS as readonly string[]).includes(name)) {
        if (seen.has(name)) issues.push({ line: header.line, column: name, reason: `Column "${name}" appears twice in the header` });
        seen.add(name);
        this.positions.push(name as ImportColumn);
      } else if ((EXPORT_ONLY_COLUMNS as readonly string[]).includes(name)) {
        this.positions.push(null);
      } else {
        issues.push({
          line: header.line,
          column: raw.trim() || "(empty)",
          reason: raw.trim() ? `Unknown column "${raw.trim()}". Columns: ${IMPORT_COLUMNS.join(", ")}` : "A header cell is empty: every column needs a name",
        });
        this.positions.push(null);
      }
    }
    for (const req of REQUIRED_COLUMNS) {
      if (!seen.has(req)) issues.push({ line: header.line, column: req, reason: `The header has no "${req}" column (it is required). The first line must name the columns, e.g. ${IMPORT_COLUMNS.join(",")}` });
    }
    this.columns = this.positions.filter((c): c is ImportColumn => c !== null);
    this.headerRejected = issues.length > 0;
    for (const i of issues) this.report(i);
  }
}

/** The problem of a row whose name an earlier row (on `firstLine`, named `firstName`) already has. */
export function duplicateNameReason(name: string, firstName: string, firstLine: number): string {
  return firstName === name ? `Duplicate name ${name}: already on line ${firstLine}` : `Duplicate name ${name}: ${firstName} on line ${firstLine} differs only in case`;
}

/** The whole file as one string: parsed, then every row validated (the preview's unit tests and small callers). */
export function parseImportCsv(text: string, opts?: CsvParseOptions): ParsedImport {
  const issues: ImportIssue[] = [];
  const badRows = new Map<number, Partial<Record<ImportColumn, string>>>();
  let records;
  try {
    records = parseCsv(text, opts);
  } catch (err) {
    if (err instanceof CsvSyntaxError) return { columns: [], rows: [], rowCount: 0, issues: [{ line: err.line, column: null, reason: err.message.replace(/^Line \d+: /, "") }], badRows };
    throw err;
  }
  const reader = new ImportRowReader((i) => issues.push(i), { duplicates: true });
  const rows: ImportRow[] = [];
  for (const rec of records) {
    const r = reader.read(rec);
    if (r.kind === "row") rows.push(r.row);
    else if (r.kind === "bad" && !reader.headerRejected) badRows.set(r.line, r.cells);
  }
  reader.finish();
  return { columns: reader.columns, rows: reader.headerRejected ? [] : rows, rowCount: reader.rowCount, issues, badRows };
}

/** A template users can start from (header + two examples). */
export function importTemplate(): string {
  return [
    IMPORT_COLUMNS.join(","),
    "mx1.example.com,192.0.2.10,linux,postfix,prod;eu,Frankfurt,mail-team@example.com,ssh,22,,",
    'exch01.example.com,192.0.2.20,windows,exchange,prod,HQ,"Windows team, ops",winrm,5986,,25/smtp;587/submission;443/https',
    "",
  ].join("\r\n");
}
