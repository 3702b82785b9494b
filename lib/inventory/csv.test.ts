// Addresses outside loopback and the lab (10.x, 1.2.3.4) in this file are data only: parsed, matched or stored, never dialled.
import { describe, expect, it } from "vitest";
import { CsvByteStream, csvCell, csvRow, CsvStreamParser, CsvSyntaxError, decodeCsvBytes, parseCsv, unguardCell, type CsvRecord } from "./csv";

const fields = (text: string) => parseCsv(text).map((r) => r.fields);

describe("parseCsv (RFC 4180)", () => {
  it.each([
    ["plain fields, LF", "a,b,c\n1,2,3\n", [["a", "b", "c"], ["1", "2", "3"]]],
    ["CRLF line ends", "a,b\r\n1,2\r\n", [["a", "b"], ["1", "2"]]],
    ["no trailing line break", "a,b\r\n1,2", [["a", "b"], ["1", "2"]]],
    ["a lone CR ends a record (classic Mac)", "a,b\r1,2\r", [["a", "b"], ["1", "2"]]],
    ["quoted comma", 'a,"x,y",c', [["a", "x,y", "c"]]],
    ["doubled quote inside quotes", '"say ""hi""",b', [['say "hi"', "b"]]],
    ["quoted CRLF and LF stay in the value", '"line1\r\nline2","a\nb"\r\nz,z', [["line1\r\nline2", "a\nb"], ["z", "z"]]],
    ["empty fields, quoted and not", ',"",x,', [["", "", "x", ""]]],
    ["blank lines are skipped", "a,b\r\n\r\n1,2\r\n\r\n", [["a", "b"], ["1", "2"]]],
    ["spaces are data, not trimmed", " a , b ", [[" a ", " b "]]],
    ["a UTF-8 BOM is dropped", "\uFEFFname,address\r\nmx,1.2.3.4", [["name", "address"], ["mx", "1.2.3.4"]]],
    ["non-ASCII text", "owner\r\nJürgen Müller", [["owner"], ["Jürgen Müller"]]],
    ["a field that is only a quoted quote", '""""', [['"']]],
  ])("%s", (_name, text, expected) => {
    expect(fields(text)).toEqual(expected);
  });

  it("numbers records by the line they start on, counting line breaks inside quotes", () => {
    const recs = parseCsv('h1,h2\r\n"multi\r\nline\nvalue",x\r\n\r\nlast,y\r\n');
    expect(recs.map((r) => r.line)).toEqual([1, 2, 6]);
  });

  it.each([
    ['a,"never closed\r\nb,c', 1, /never closed/],
    ['a,b\r\nc,"x"y\r\n', 2, /after a closing quote/],
    ['a,b\r\nc,x"y\r\n', 2, /quote inside an unquoted field/],
    ['a\r\n"multi\nline"\r\nx,"bad"z', 4, /after a closing quote/],
  ])("rejects malformed input %j at line %i", (text, line, message) => {
    let caught: unknown;
    try {
      parseCsv(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CsvSyntaxError);
    expect((caught as CsvSyntaxError).line).toBe(line);
    expect((caught as Error).message).toMatch(message);
  });

  it("refuses text over the size cap before parsing", () => {
    expect(() => parseCsv("x".repeat(2000), { maxBytes: 1000 })).toThrow(/larger than/);
    expect(parseCsv("x".repeat(300), { maxBytes: 1000 })).toHaveLength(1);
  });

  it("counts multi-byte characters against the cap in bytes", () => {
    // 400 characters, 800 UTF-8 bytes.
    expect(() => parseCsv("ü".repeat(400), { maxBytes: 700 })).toThrow(/larger than/);
  });

  it("refuses more rows than the cap (the header does not count)", () => {
    expect(parseCsv("h\n1\n2\n3\n", { maxRows: 3 })).toHaveLength(4);
    expect(() => parseCsv("h\n1\n2\n3\n4\n", { maxRows: 3 })).toThrow(/more than 3 rows/);
  });

  it("parses 50,000 rows quickly", () => {
    const row = 'mx1.example.com,192.0.2.10,linux,postfix;nginx,prod;eu,"Frankfurt, DC1",ops,ssh,22,,25/smtp;587/submission\r\n';
    const text = "name,address,platform,roles,tags,group,owner,transport,port,credential,endpoints\r\n" + row.repeat(50_000);
    const t0 = performance.now();
    const recs = parseCsv(text);
    const ms = performance.now() - t0;
    expect(recs).toHaveLength(50_001);
    expect(recs[50_000].fields[5]).toBe("Frankfurt, DC1");
    expect(ms).toBeLessThan(2000);
  });
});

// What a parse gives: the records, or the error (message and line) it stopped at.
type Outcome = { records: CsvRecord[] } | { error: string; line: number };

function outcome(parse: () => CsvRecord[]): Outcome {
  try {
    return { records: parse() };
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    return { error: err.message, line: err.line };
  }
}

function streamed(chunks: string[]): CsvRecord[] {
  const p = new CsvStreamParser();
  const out: CsvRecord[] = [];
  for (const c of chunks) out.push(...p.push(c));
  out.push(...p.end());
  return out;
}

function streamedBytes(bytes: Uint8Array, cuts: number[]): CsvRecord[] {
  const s = new CsvByteStream();
  const out: CsvRecord[] = [];
  let from = 0;
  for (const to of [...cuts, bytes.byteLength]) {
    out.push(...s.push(bytes.subarray(from, to)));
    from = to;
  }
  out.push(...s.end());
  return out;
}

// Inputs that put every kind of boundary somewhere: quoted commas and line breaks, "" escapes,
// CRLF, lone CR, blank lines, a BOM, multi-byte UTF-8, and each syntax error.
const CHUNKING_CASES = [
  'name,owner\r\n"mx,1","say ""hi""\r\nthere"\r\n\r\nb,c\rd,e\n',
  '\uFEFFname,address\r\nmx,1.2.3.4\r\n"Jürgen ""Müller""","€😀"\r\n',
  '"a\r\n\r\nb",c\r\n,,\r\n""""\r\n',
  'a,"never closed\r\nb,c',
  'a,b\r\nc,"x"y\r\n',
  'a,b\r\nc,x"y\r\n',
  'a\r\n"multi\nline"\r\nx,"bad"z',
  'no,trailing\r\nline,break',
  'ends,with,cr\r',
];

describe("incremental parsing (CsvStreamParser, CsvByteStream)", () => {
  it.each(CHUNKING_CASES)("gives what one string gives, split at every position and into single characters: %j", (text) => {
    const whole = outcome(() => parseCsv(text));
    for (let cut = 0; cut <= text.length; cut++) {
      expect(outcome(() => streamed([text.slice(0, cut), text.slice(cut)])), `cut at ${cut}`).toEqual(whole);
    }
    expect(outcome(() => streamed([...text]))).toEqual(whole);
  });

  it.each(CHUNKING_CASES)("gives what one string gives, as bytes split at every position (inside multi-byte characters too): %j", (text) => {
    const whole = outcome(() => parseCsv(text));
    const bytes = new TextEncoder().encode(text);
    for (let cut = 0; cut <= bytes.byteLength; cut++) {
      expect(outcome(() => streamedBytes(bytes, [cut])), `cut at byte ${cut}`).toEqual(whole);
    }
    expect(outcome(() => streamedBytes(bytes, Array.from({ length: bytes.byteLength }, (_, i) => i)))).toEqual(whole);
  });

  it("keeps a CRLF split between chunks one line break", () => {
    const recs = streamed(["a,b\r", "\n1,2\r", "\n3,4"]);
    expect(recs).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["1", "2"] },
      { line: 3, fields: ["3", "4"] },
    ]);
  });

  it("hands back records as their chunks complete them, not all at the end", () => {
    const p = new CsvStreamParser();
    expect(p.push("h1,h2\r\nv1,")).toEqual([{ line: 1, fields: ["h1", "h2"] }]);
    expect(p.push('"multi\r\nline"\r\nnext')).toEqual([{ line: 2, fields: ["v1", "multi\r\nline"] }]);
    expect(p.end()).toEqual([{ line: 4, fields: ["next"] }]);
  });

  it("refuses a quoted field left open past the record cap while streaming, at the line of its quote", () => {
    const p = new CsvStreamParser();
    p.push('h\r\nok\r\n"open');
    let caught: unknown;
    try {
      for (let i = 0; i < 20; i++) p.push("x".repeat(100_000));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CsvSyntaxError);
    expect((caught as CsvSyntaxError).line).toBe(3);
    expect((caught as Error).message).toMatch(/never closed/);
  });

  it("stays linear when a long record arrives one character at a time", () => {
    // Parsing the held-back record again at every push made this quadratic: minutes, not milliseconds.
    const text = `h\r\n"${"x".repeat(200_000)}"\r\n`;
    const p = new CsvStreamParser();
    const t0 = performance.now();
    const recs: CsvRecord[] = [];
    for (const c of text) recs.push(...p.push(c));
    recs.push(...p.end());
    expect(recs.map((r) => r.fields[0].length)).toEqual([1, 200_000]);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("refuses bytes that are not UTF-8 with the line they are on", () => {
    const s = new CsvByteStream();
    s.push(new TextEncoder().encode("h\r\na\r\nb\r\n"));
    expect(() => s.push(new Uint8Array([0x4d, 0xfc, 0x6c, 0x0d, 0x0a]))).toThrow(/Line 4: the file is not UTF-8.*CSV UTF-8/);
  });

  it("refuses more bytes than the cap as they arrive", () => {
    const s = new CsvByteStream({ maxBytes: 1000 });
    s.push(new Uint8Array(600).fill(0x61));
    expect(() => s.push(new Uint8Array(600).fill(0x61))).toThrow(/larger than 1 KiB/);
  });

  it("counts rows against the cap across chunks", () => {
    const p = new CsvStreamParser({ maxRows: 3 });
    p.push("h\n1\n2\n");
    expect(() => p.push("3\n4\n")).toThrow(/more than 3 rows/);
  });

  it("parses 120,000 rows in 64 KiB chunks as fast as one string, with the same records", () => {
    const row = 'mx1.example.com,192.0.2.10,linux,postfix;nginx,prod;eu,"Frankfurt, DC1",ops,ssh,22,,25/smtp;587/submission\r\n';
    const text = "name,address,platform,roles,tags,group,owner,transport,port,credential,endpoints\r\n" + row.repeat(120_000);
    const bytes = new TextEncoder().encode(text);
    const cuts: number[] = [];
    for (let at = 65_536; at < bytes.byteLength; at += 65_536) cuts.push(at);
    const t0 = performance.now();
    const recs = streamedBytes(bytes, cuts);
    const ms = performance.now() - t0;
    expect(recs).toHaveLength(120_001);
    expect(recs[120_000]).toEqual({ line: 120_001, fields: parseCsv(row)[0].fields });
    expect(ms).toBeLessThan(3000);
  });
});

describe("decodeCsvBytes", () => {
  it("decodes UTF-8 and drops the BOM", () => {
    expect(decodeCsvBytes(new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0xc3, 0xbc]))).toBe("aü");
  });
  it("refuses Windows-1252 bytes with advice", () => {
    expect(() => decodeCsvBytes(new Uint8Array([0x4d, 0xfc, 0x6c]))).toThrow(/not UTF-8.*CSV UTF-8/);
  });
  it("refuses files over the cap", () => {
    expect(() => decodeCsvBytes(new Uint8Array(2048), 1024)).toThrow(/limit is 1 KiB/);
  });
});

describe("writing cells", () => {
  it.each([
    ["plain", "plain"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["=HYPERLINK(\"http://evil\")", '"\'=HYPERLINK(""http://evil"")"'],
    ["+1 555", "'+1 555"],
    ["-ops", "'-ops"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\tcmd", "'\tcmd"],
    [null, ""],
    [undefined, ""],
    [443, "443"],
  ])("%j -> %j", (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it("writes dates as ISO 8601 UTC", () => {
    expect(csvCell(new Date(Date.UTC(2026, 10, 28, 10, 2)))).toBe("2026-11-28T10:02:00.000Z");
  });

  it("round-trips through the parser, formula guard included", () => {
    const values = ["a,b", 'q"q', "multi\r\nline", "=1+2", "-ops", "plain", ""];
    const [rec] = parseCsv(csvRow(values));
    expect(rec.fields.map(unguardCell)).toEqual(values);
  });

  it("leaves a legitimate leading apostrophe alone", () => {
    expect(unguardCell("'quoted")).toBe("'quoted");
    expect(unguardCell("'")).toBe("'");
  });
});