import { describe, expect, it } from "vitest";
import { formatTarget, parseTargetSpec, parseTargetsFile, TargetSyntaxError } from "./targets";
import { serviceForPort } from "./services";

describe("parseTargetSpec", () => {
  it.each([
    ["mx1.example:25", { host: "mx1.example", port: 25 }],
    ["mx1.example", { host: "mx1.example", port: 25 }],
    ["192.0.2.7:465", { host: "192.0.2.7", port: 465 }],
    ["[2001:db8::7]:993", { host: "2001:db8::7", port: 993 }],
    ["[::1]", { host: "::1", port: 25 }],
    ["::1", { host: "::1", port: 25 }],
  ])("%s", (spec, target) => {
    expect(parseTargetSpec(spec)).toEqual(target);
  });

  it("takes the port from the service when none is given", () => {
    expect(parseTargetSpec("mx1.example", "imaps")).toEqual({ host: "mx1.example", port: 993, service: "imaps" });
    expect(parseTargetSpec("mx1.example", "tls")).toEqual({ host: "mx1.example", port: 25, service: "tls" });
  });

  it.each(["mx1:0", "mx1:65536", "mx1:", "mx1:25x", "[::1:25", "[::1]25", "[mx1]:25", "mx 1:25", "a/b:25", ""])("refuses '%s'", (spec) => {
    expect(() => parseTargetSpec(spec)).toThrow(TargetSyntaxError);
  });
});

describe("parseTargetsFile", () => {
  it("reads HOST:PORT [SERVICE] lines, skipping comments and blanks, and reports bad lines by number", () => {
    const file = ["# fleet", "", "mx1.example:25", "  mx1.example:587 submission  # relay", "[::1]:8443 https", "bad:port", "x:25 gopher", "a:1 b c"].join("\n");
    const parsed = parseTargetsFile(file);
    expect(parsed.targets).toEqual([
      { host: "mx1.example", port: 25 },
      { host: "mx1.example", port: 587, service: "submission" },
      { host: "::1", port: 8443, service: "https" },
    ]);
    expect(parsed.problems).toHaveLength(3);
    expect(parsed.problems[0]).toMatch(/^line 6: bad port/);
    expect(parsed.problems[1]).toMatch(/^line 7: unknown service 'gopher'/);
    expect(parsed.problems[2]).toMatch(/^line 8: /);
  });

  it("accepts CRLF files", () => {
    expect(parseTargetsFile("a.example:25\r\nb.example:443 https\r\n").targets).toHaveLength(2);
  });
});

describe("services and formatting", () => {
  it("defaults the service from the port, unknown ports being plain TLS", () => {
    expect([25, 587, 465, 443, 143, 993, 110, 995, 636, 8443, 5986].map(serviceForPort)).toEqual([
      "smtp", "submission", "smtps", "https", "imap", "imaps", "pop3", "pop3s", "ldaps", "tls", "tls",
    ]);
  });

  it("brackets IPv6 addresses", () => {
    expect(formatTarget("::1", 25)).toBe("[::1]:25");
    expect(formatTarget("mx1", 25)).toBe("mx1:25");
  });
});
