// probeEndpoint takes input from CSV imports, the API and job payloads: whatever it is given,
// it answers with a report and never throws, and a malformed target never reaches DNS or the wire.
import { describe, expect, it } from "vitest";
import { parseAllowList, probeEndpoint } from "../../../lib/tls";
import type { ProbeTarget } from "../../../lib/tls/types";

describe("probeEndpoint on bad input", () => {
  it.each([
    [{ host: "", port: 25 }],
    [{ host: "a b", port: 25 }],
    [{ host: "mx1.example;rm -rf /", port: 25 }],
    [{ host: "mx1.example", port: 0 }],
    [{ host: "mx1.example", port: 65536 }],
    [{ host: "mx1.example", port: 25.5 }],
    [{ host: "mx1.example", port: Number.NaN }],
    [{ host: "\u0000\r\n", port: 25 }],
    [{ host: undefined as unknown as string, port: 25 }],
    [{ host: "mx1.example", port: 25, service: "gopher" as unknown as "smtp" }],
  ])("%j is reported as a bad target without a connection", async (target) => {
    const report = await probeEndpoint(target as ProbeTarget);
    expect(report.verdict).toBe("error");
    expect(report.error).toMatch(/^bad target/);
    expect(report.error).not.toMatch(/[\r\n\0]/);
    expect(Object.values(report.protocols)).toEqual(["unknown", "unknown", "unknown", "unknown"]);
    expect(report.notTested).toEqual(["SSLv3"]);
  });

  it("refuses an address outside the allowed ranges before connecting", async () => {
    const report = await probeEndpoint({ host: "192.0.2.10", port: 25 }, { allowList: parseAllowList("198.18.0.0/15") });
    expect(report).toMatchObject({ verdict: "error", error: "target not in allowed ranges", service: "smtp", target: "192.0.2.10:25" });
    expect(report.durationMs).toBeLessThan(50);
  });
});
