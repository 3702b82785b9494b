// RFC 4180 CSV, both directions: a strict parser for host imports (quoted fields with embedded
// commas, quotes and line breaks, CRLF or LF line ends, a UTF-8 BOM as Excel writes it) and the
// cell escaping the exporter uses. Pure: no I/O, so it is unit-tested on its own.
//
// Why not csv-parse (weighed for issue 13; it is well kept and would parse these files): an
// import either loads every row or none, and every refusal has to tell an operator which line
// and what to change in their spreadsheet ('Line 7: a quoted field is never closed (a missing
// " ?)'). With csv-parse each of its error codes (CSV_INVALID_CLOSING_QUOTE,
// CSV_RECORD_INCONSISTENT_FIELDS_LENGTH, ...) would still need our own message, and its relax_*
// options are exactly the guesses this parser refuses to make. The parser proper is about 80
// lines, strict RFC 4180, bounded by CSV_MAX_BYTES / CSV_MAX_ROWS and fuzzed (RELIABILITY.md),
// so a dependency would add more than it removes. What would change the answer: imports too big
// to hold as one string (issue 12's 500,000 rows), where csv-parse's streaming parser is the
// better base.

import { AppError } from "../errors";

/** 10 MiB: ~80,000 typical host rows. Next's proxy buffers at most 10 MB of a request body. */
export const CSV_MAX_BYTES = 10 * 1024 * 1024;
export const CSV_MAX_ROWS = 100_000;

export interface CsvRecord {
  /** 1-based line of the file on which the record starts (a quoted line break makes records span lines). */
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends AppError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`Line ${line}: ${message}`);
    this.name = "CsvSyntaxError";
  }
}

export interface CsvParseOptions {
  maxBytes?: number;
  maxRows?: number;
}

const QUOTE = 34; // "
const COMMA = 44; // ,
const CR = 13;
const LF = 10;

/**
 * Decodes an uploaded file: UTF-8 only (a Windows-1252 export from old Excel would otherwise
 * turn "Müller" into mojibake silently), BOM removed, size capped before any parsing work.
 */
export function decodeCsvBytes(bytes: Uint8Array, maxBytes = CSV_MAX_BYTES): string {
  if (bytes.byteLength > maxBytes) throw new CsvSyntaxError(`the file is ${formatBytes(bytes.byteLength)}; the limit is ${formatBytes(maxBytes)}. Split it into smaller files.`, 1);
  try {
    return stripBom(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new CsvSyntaxError("the file is not UTF-8 text. Save it as \"CSV UTF-8\" and upload it again.", 1);
  }
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}

/**
 * Parses CSV text into records. Blank lines are skipped (spreadsheets leave them at the end).
 * Deviations from the RFC are errors, not guesses: a quote inside an unquoted field, text after a
 * closing quote, or a quoted field that never ends.
 */
export function parseCsv(input: string, opts: CsvParseOptions = {}): CsvRecord[] {
  const maxBytes = opts.maxBytes ?? CSV_MAX_BYTES;
  const maxRows = opts.maxRows ?? CSV_MAX_ROWS;
  // Cheap upper bound first (UTF-16 length * 3 >= UTF-8 bytes), exact count only when it matters.
  if (input.length * 3 > maxBytes && Buffer.byteLength(input, "utf8") > maxBytes) {
    throw new CsvSyntaxError(`the file is larger than ${formatBytes(maxBytes)}. Split it into smaller files.`, 1);
  }
  const text = stripBom(input);
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;

  while (i < n) {
    const recordLine = line;
    const fields: string[] = [];
    // One record.
    for (;;) {
      let value: string;
      if (text.charCodeAt(i) === QUOTE) {
        const fieldLine = line;
        i++;
        let chunkStart = i;
        let out = "";
        for (;;) {
          const q = text.indexOf('"', i);
          if (q === -1) throw new CsvSyntaxError("a quoted field is never closed (a missing \" ?)", fieldLine);
          // Count line breaks inside the quoted part so later line numbers stay right.
          for (let k = i; k < q; k++) {
            const c = text.charCodeAt(k);
            if (c === LF || (c === CR && text.charCodeAt(k + 1) !== LF)) line++;
          }
          if (text.charCodeAt(q + 1) === QUOTE) {
            out += text.slice(chunkStart, q + 1);
            i = q + 2;
            chunkStart = i;
            continue;
          }
          out += text.slice(chunkStart, q);
          i = q + 1;
          break;
        }
        const next = text.charCodeAt(i);
        if (i < n && next !== COMMA && next !== CR && next !== LF) {
          throw new CsvSyntaxError(`unexpected text after a closing quote (write a quote inside a quoted field as "")`, line);
        }
        value = out;
      } else {
        const start = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === COMMA || c === CR || c === LF) break;
          if (c === QUOTE) throw new CsvSyntaxError(`a quote inside an unquoted field (quote the whole field and double the quote: "a ""b""")`, line);
          i++;
        }
        value = text.slice(start, i);
      }
      fields.push(value);
      if (i < n && text.charCodeAt(i) === COMMA) {
        i++;
        continue;
      }
      break;
    }
    // End of record: CRLF, LF, a lone CR (old Mac files), or end of input.
    if (i < n) {
      if (text.charCodeAt(i) === CR) i++;
      if (i < n && text.charCodeAt(i) === LF) i++;
      line++;
    }
    if (fields.length === 1 && fields[0] === "") continue; // blank line
    if (records.length >= maxRows + 1) throw new CsvSyntaxError(`more than ${maxRows.toLocaleString("en")} rows. Split the file.`, recordLine);
    records.push({ line: recordLine, fields });
  }
  return records;
}

// ---- writing -------------------------------------------------------------------------------

// Spreadsheets execute a cell that starts with one of these as a formula (OWASP "CSV Injection");
// a leading apostrophe makes Excel and LibreOffice show the text as typed. Tab and CR are on
// OWASP's list too.
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: formula guard, then RFC 4180 quoting when needed. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let s = value instanceof Date ? value.toISOString() : String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV record with its CRLF terminator (RFC 4180 section 2.1). */
export function csvRow(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(",")}\r\n`;
}

/** Undoes csvCell's formula guard so an exported file imports back unchanged. */
export function unguardCell(s: string): string {
  return s.length > 1 && s.charCodeAt(0) === 39 && FORMULA_START.test(s.slice(1)) ? s.slice(1) : s;
}
