// CSV rows -> validated host inputs, with every problem located (line, column, reason) so the
// preview can point at the cell to fix. Pure: the database checks (credentials exist, which
// names already exist) happen in import.ts.
import { defaultEndpoints, HostInput, type EndpointSpec, type HostInputValue } from "./model";
import { CsvSyntaxError, parseCsv, unguardCell, type CsvParseOptions } from "./csv";

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
  if (records.length === 0) return { columns: [], rows: [], rowCount: 0, issues: [{ line: 1, column: null, reason: `The file is empty. The first line must name the columns: ${IMPORT_COLUMNS.join(",")}` }], badRows };

  // ---- header
  const header = records[0];
  const positions: Array<ImportColumn | null> = [];
  const seen = new Set<string>();
  for (const raw of header.fields) {
    const name = raw.trim().toLowerCase();
    if ((IMPORT_COLUMNS as readonly string[]).includes(name)) {
      if (seen.has(name)) issues.push({ line: header.line, column: name, reason: `Column "${name}" appears twice in the header` });
      seen.add(name);
      positions.push(name as ImportColumn);
    } else if ((EXPORT_ONLY_COLUMNS as readonly string[]).includes(name)) {
      positions.push(null);
    } else {
      issues.push({
        line: header.line,
        column: raw.trim() || "(empty)",
        reason: raw.trim() ? `Unknown column "${raw.trim()}". Columns: ${IMPORT_COLUMNS.join(", ")}` : "A header cell is empty: every column needs a name",
      });
      positions.push(null);
    }
  }
  for (const req of REQUIRED_COLUMNS) {
    if (!seen.has(req)) issues.push({ line: header.line, column: req, reason: `The header has no "${req}" column (it is required). The first line must name the columns, e.g. ${IMPORT_COLUMNS.join(",")}` });
  }
  const columns = positions.filter((c): c is ImportColumn => c !== null);
  const dataRecords = records.slice(1);
  if (issues.length) return { columns, rows: [], rowCount: dataRecords.length, issues, badRows };

  // ---- rows
  const rows: ImportRow[] = [];
  const firstLineOfName = new Map<string, { line: number; name: string }>();
  for (const rec of dataRecords) {
    const cells: Partial<Record<ImportColumn, string>> = {};
    positions.forEach((col, idx) => {
      if (col && idx < rec.fields.length) cells[col] = unguardCell(rec.fields[idx]);
    });
    const rowIssues: ImportIssue[] = [];
    if (rec.fields.length !== header.fields.length) {
      rowIssues.push({ line: rec.line, column: null, reason: `The row has ${rec.fields.length} field${rec.fields.length === 1 ? "" : "s"}, the header has ${header.fields.length} (a comma inside a value must be quoted: "a,b")` });
    }
    const candidate: Record<string, string | undefined> = {};
    for (const col of columns) {
      const v = cells[col]?.trim();
      candidate[FIELD_OF[col]] = v === "" ? undefined : v;
    }
    const parsed = HostInput.safeParse(candidate);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? "");
        rowIssues.push({ line: rec.line, column: COLUMN_OF[field] ?? null, reason: issue.message });
      }
    } else {
      const key = parsed.data.name.toLowerCase();
      const first = firstLineOfName.get(key);
      if (first) {
        rowIssues.push({
          line: rec.line,
          column: "name",
          reason: first.name === parsed.data.name ? `Duplicate name ${parsed.data.name}: already on line ${first.line}` : `Duplicate name ${parsed.data.name}: ${first.name} on line ${first.line} differs only in case`,
        });
      } else firstLineOfName.set(key, { line: rec.line, name: parsed.data.name });
    }
    if (rowIssues.length || !parsed.success) {
      issues.push(...rowIssues);
      badRows.set(rec.line, cells);
      continue;
    }
    const exactEndpoints = Boolean(parsed.data.endpoints?.length);
    rows.push({ line: rec.line, input: parsed.data, exactEndpoints, endpoints: exactEndpoints ? parsed.data.endpoints! : defaultEndpoints(parsed.data.roles), cells });
  }
  if (dataRecords.length === 0) issues.push({ line: header.line + 1, column: null, reason: "The file has a header but no hosts" });
  return { columns, rows, rowCount: dataRecords.length, issues, badRows };
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
