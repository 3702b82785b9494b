import { describe, expect, it } from "vitest";
import { distinguishedName, opensslTimeToIso, splitSubjectAltNames } from "./certificate";

describe("certificate summary helpers", () => {
  it("turns OpenSSL validity times into ISO 8601 without milliseconds", () => {
    expect(opensslTimeToIso("Jan  1 00:00:00 2027 GMT")).toBe("2027-01-01T00:00:00Z");
    expect(opensslTimeToIso("Nov 28 03:24:17 2026 GMT")).toBe("2026-11-28T03:24:17Z");
  });

  it("joins Node's one-attribute-per-line names", () => {
    expect(distinguishedName("C=PL\nO=Example\nCN=mx1.example")).toBe("C=PL, O=Example, CN=mx1.example");
  });

  it("splits SANs without breaking quoted entries", () => {
    expect(splitSubjectAltNames("DNS:mx1.example, DNS:*.example, IP Address:192.0.2.1")).toEqual([
      "DNS:mx1.example",
      "DNS:*.example",
      "IP Address:192.0.2.1",
    ]);
    expect(splitSubjectAltNames('DNS:a, URI:"http://x/?a=1, b=2"')).toEqual(["DNS:a", 'URI:"http://x/?a=1, b=2"']);
    expect(splitSubjectAltNames(undefined)).toEqual([]);
  });
});
