import { describe, expect, it } from "vitest";
import { importTemplate, parseImportCsv } from "./import-rows";

const HEADER = "name,address,platform,roles,tags,group,owner,transport,port,credential,endpoints";

describe("CSV import rows", () => {
  it("turns valid rows into host inputs with endpoints (explicit or role defaults)", () => {
    const r = parseImportCsv(`${HEADER}\r\nmx1,192.0.2.1,Linux,postfix,prod;EU,Site A,ops,ssh,22,,\r\nweb1,192.0.2.2,linux,nginx,,,,,,,8443/https;443\r\n`);
    expect(r.issues).toEqual([]);
    expect(r.rows).toHaveLength(2);
    const [mx, web] = r.rows;
    expect(mx.input).toMatchObject({ name: "mx1", platform: "linux", roles: ["postfix"], tags: ["prod", "eu"], group: "Site A", transport: "ssh", port: 22 });
    expect(mx.exactEndpoints).toBe(false);
    expect(mx.endpoints.map((e) => e.port)).toEqual([25, 587]);
    expect(web.exactEndpoints).toBe(true);
    expect(web.endpoints.map((e) => `${e.port}/${e.service}`)).toEqual(["8443/https", "443/https"]);
  });

  it("accepts the header in any case and order, with only the required columns", () => {
    const r = parseImportCsv("Address,NAME\n192.0.2.9,solo\n");
    expect(r.issues).toEqual([]);
    expect(r.columns).toEqual(["address", "name"]);
    expect(r.rows[0].input).toMatchObject({ name: "solo", address: "192.0.2.9", platform: "other", roles: [] });
  });

  it("locates every bad cell by line, column and reason", () => {
    const text = [
      HEADER,
      "ok1,192.0.2.1,linux,postfix,,,,,,,",
      "bad name!,192.0.2.2,linux,,,,,,,,",
      "ok2,$(reboot),solaris,,,,,,,,",
      "ok3,192.0.2.4,linux,mailserver,,,,,99999,,25/gopher",
    ].join("\r\n");
    const r = parseImportCsv(text);
    expect(r.rows.map((x) => x.input.name)).toEqual(["ok1"]);
    expect(r.issues).toEqual(
      expect.arrayContaining([
        { line: 3, column: "name", reason: expect.stringMatching(/letters, digits/) },
        { line: 4, column: "address", reason: expect.stringMatching(/host name or an IP/) },
        { line: 4, column: "platform", reason: "Platform must be one of windows, linux, other" },
        { line: 5, column: "roles", reason: expect.stringMatching(/Role must be one of/) },
        { line: 5, column: "port", reason: "Port must be 1-65535" },
        { line: 5, column: "endpoints", reason: expect.stringMatching(/not PORT\/SERVICE/) },
      ]),
    );
    expect([...r.badRows.keys()]).toEqual([3, 4, 5]);
    expect(r.badRows.get(3)?.name).toBe("bad name!");
  });

  it("reports duplicate names inside the file, also when they differ only in case", () => {
    const r = parseImportCsv(`name,address\nmx1,192.0.2.1\nmx2,192.0.2.2\nmx1,192.0.2.3\nMX2,192.0.2.4\n`);
    expect(r.issues).toEqual([
      { line: 4, column: "name", reason: "Duplicate name mx1: already on line 2" },
      { line: 5, column: "name", reason: "Duplicate name MX2: mx2 on line 3 differs only in case" },
    ]);
  });

  it("refuses unknown, duplicate and missing header columns", () => {
    const r = parseImportCsv("name,hostname,Name,colour\nmx1,x,y,z\n");
    expect(r.rows).toEqual([]);
    expect(r.issues.map((i) => `${i.column}: ${i.reason}`)).toEqual([
      expect.stringMatching(/^hostname: Unknown column "hostname"/),
      'name: Column "name" appears twice in the header',
      expect.stringMatching(/^colour: Unknown column/),
      expect.stringMatching(/^address: The header has no "address" column/),
    ]);
  });

  it("ignores the export's status columns so an exported file imports back", () => {
    const r = parseImportCsv("name,address,status,explanation,firstFailingAt,lastScanAt\nmx1,192.0.2.1,noncompliant,TLS 1.0 accepted,2026-01-01T00:00:00.000Z,\n");
    expect(r.issues).toEqual([]);
    expect(r.rows[0].input.name).toBe("mx1");
  });

  it("reports rows with too few or too many fields", () => {
    const r = parseImportCsv("name,address,group\nmx1,192.0.2.1\nmx2,192.0.2.2,Site,extra\n");
    expect(r.issues.map((i) => [i.line, i.reason])).toEqual([
      [2, expect.stringMatching(/2 fields, the header has 3/)],
      [3, expect.stringMatching(/4 fields, the header has 3/)],
    ]);
  });

  it("reports CSV syntax errors with their line", () => {
    const r = parseImportCsv('name,address\nmx1,"192.0.2.1\n');
    expect(r.issues).toEqual([{ line: 2, column: null, reason: expect.stringMatching(/never closed/) }]);
  });

  it("reports an empty file and a header without rows", () => {
    expect(parseImportCsv("").issues[0].reason).toMatch(/empty/);
    expect(parseImportCsv("name,address\r\n").issues[0].reason).toMatch(/no hosts/);
  });

  it("undoes the export's formula guard on import", () => {
    const r = parseImportCsv(`name,address,owner\nmx1,192.0.2.1,'-ops team\n`);
    expect(r.rows[0].input.owner).toBe("-ops team");
  });

  it("accepts its own template", () => {
    const r = parseImportCsv(importTemplate());
    expect(r.issues).toEqual([]);
    expect(r.rows.map((x) => x.input.owner)).toEqual(["mail-team@example.com", "Windows team, ops"]);
  });
});
