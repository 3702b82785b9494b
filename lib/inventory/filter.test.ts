import { describe, expect, it } from "vitest";
import { BulkHostTarget, decodeCursor, encodeCursor, filterToSearchParams, isEmptyFilter, parseHostListParams } from "./filter";

describe("host list parameters", () => {
  it("applies defaults and treats empty form fields as unset", () => {
    const r = parseHostListParams(new URLSearchParams("q=&tag=&group=&platform=&role=&status="));
    expect(r.success && r.data).toEqual({ sort: "name", dir: "asc", limit: 50 });
    expect(r.success && isEmptyFilter(r.data)).toBe(true);
  });

  it("collects repeated status parameters (checkboxes) and comma lists alike", () => {
    const a = parseHostListParams(new URLSearchParams("status=noncompliant&status=at_risk"));
    const b = parseHostListParams({ status: "noncompliant,at_risk" });
    const c = parseHostListParams({ status: ["noncompliant", "at_risk"] });
    for (const r of [a, b, c]) expect(r.success && r.data.status).toEqual(["noncompliant", "at_risk"]);
  });

  it("lower-cases tags (they are stored lower-case) and trims text", () => {
    const r = parseHostListParams({ tag: " PCI ", q: "  mx1 " });
    expect(r.success && [r.data.tag, r.data.q]).toEqual(["pci", "mx1"]);
  });

  it.each([["status=bogus"], ["platform=solaris"], ["sort=address"], ["dir=up"], ["limit=0"], ["limit=501"], [`q=${"x".repeat(101)}`]])("refuses %s", (query) => {
    expect(parseHostListParams(new URLSearchParams(query)).success).toBe(false);
  });

  it("round-trips through the query string", () => {
    const r = parseHostListParams(new URLSearchParams("status=noncompliant,at_risk&tag=eu&sort=lastScanAt&dir=desc"));
    expect(r.success).toBe(true);
    const again = parseHostListParams(filterToSearchParams(r.success ? r.data : {}));
    expect(again.success && again.data).toEqual(r.success && r.data);
  });
});

describe("keyset cursor", () => {
  it("round-trips a sort value (or null) and an id", () => {
    const id = "0b9e5d6c-1f5e-4a53-9a57-3f9a3d1d2c11";
    expect(decodeCursor(encodeCursor("mx1.example.test", id))).toEqual({ sortValue: "mx1.example.test", id });
    expect(decodeCursor(encodeCursor(null, id))).toEqual({ sortValue: null, id });
  });

  it.each([["garbage"], [Buffer.from('["x","not-a-uuid"]').toString("base64url")], [Buffer.from('{"a":1}').toString("base64url")], [""]])("rejects a forged cursor %j", (c) => {
    expect(decodeCursor(c)).toBeNull();
  });
});

describe("bulk target", () => {
  const id = "0b9e5d6c-1f5e-4a53-9a57-3f9a3d1d2c11";
  it.each([[{ hostIds: [id] }], [{ filter: { tag: "eu" } }], [{ all: true }]])("accepts exactly one selection %j", (t) => {
    expect(BulkHostTarget.safeParse(t).success).toBe(true);
  });
  it.each([[{}], [{ hostIds: [id], all: true }], [{ hostIds: [] }], [{ hostIds: ["1; DROP TABLE"] }], [{ all: false }]])("refuses %j", (t) => {
    expect(BulkHostTarget.safeParse(t).success).toBe(false);
  });
});
