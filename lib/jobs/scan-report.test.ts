import { describe, expect, it } from "vitest";
import { formatEndpointLine, scanTaskOutcome, type EndpointLineInput } from "./scan-report";
import { stampLine } from "./task-log";

const all = (o: "accepted" | "rejected" | "unknown") => ({ TLSv1: o, "TLSv1.1": o, "TLSv1.2": o, "TLSv1.3": o });

describe("formatEndpointLine", () => {
  const table: Array<[string, EndpointLineInput, string]> = [
    [
      "a Postfix that still allows TLS 1.0",
      { port: 25, service: "smtp", verdict: "noncompliant", protocols: { ...all("accepted"), "TLSv1.3": "rejected" } },
      "25/smtp: TLS 1.0 accepted, TLS 1.1 accepted, TLS 1.2 accepted, TLS 1.3 rejected -> noncompliant",
    ],
    [
      "a compliant web server",
      { port: 443, service: "https", verdict: "compliant", protocols: { TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" } },
      "443/https: TLS 1.0 rejected, TLS 1.1 rejected, TLS 1.2 accepted, TLS 1.3 accepted -> compliant",
    ],
    [
      "unknown outcomes say why (unknown is not rejected)",
      {
        port: 587,
        service: "submission",
        verdict: "compliant",
        protocols: { TLSv1: "rejected", "TLSv1.1": "unknown", "TLSv1.2": "accepted", "TLSv1.3": "rejected" },
        reasons: { TLSv1: "protocol_version", "TLSv1.1": "timeout" },
      },
      "587/submission: TLS 1.0 rejected, TLS 1.1 unknown (timeout), TLS 1.2 accepted, TLS 1.3 rejected -> compliant",
    ],
    ["an unreachable endpoint", { port: 25, service: "smtp", verdict: "unreachable", protocols: all("unknown"), error: "connect ECONNREFUSED" }, "25/smtp: unreachable (connect ECONNREFUSED) -> unreachable"],
    ["no STARTTLS offered", { port: 25, service: "smtp", verdict: "no-tls", protocols: all("unknown") }, "25/smtp: STARTTLS not offered (peers that require TLS get 451 5.7.3) -> no-tls"],
    [
      "a refused target",
      { port: 25, service: "smtp", verdict: "error", protocols: all("unknown"), reasons: { TLSv1: "not allowed", "TLSv1.1": "not allowed", "TLSv1.2": "not allowed", "TLSv1.3": "not allowed" }, error: "target not in allowed ranges" },
      "25/smtp: TLS 1.0 unknown (not allowed), TLS 1.1 unknown (not allowed), TLS 1.2 unknown (not allowed), TLS 1.3 unknown (not allowed) -> error (target not in allowed ranges)",
    ],
  ];
  it.each(table)("%s", (_name, input, expected) => expect(formatEndpointLine(input)).toBe(expected));

  it("stamps lines with UTC time", () => {
    expect(stampLine("25/smtp: x", new Date("2026-11-28T10:02:03.456Z"))).toBe("10:02:03Z 25/smtp: x\n");
  });
});

describe("scanTaskOutcome", () => {
  it.each([
    ["probed, whatever the verdict", { endpointCount: 2, verdicts: ["noncompliant", "compliant"], refused: 0 }, "succeeded"],
    ["one endpoint unreachable is still a probed host", { endpointCount: 2, verdicts: ["unreachable", "compliant"], refused: 0 }, "succeeded"],
    ["inconclusive handshakes are a finding, not a failure", { endpointCount: 1, verdicts: ["error"], refused: 0 }, "succeeded"],
    ["every endpoint unreachable", { endpointCount: 2, verdicts: ["unreachable", "unreachable"], refused: 0 }, "unreachable"],
    ["outside the allowed ranges", { endpointCount: 2, verdicts: ["error", "error"], refused: 2 }, "failed"],
    ["no endpoints", { endpointCount: 0, verdicts: [], refused: 0 }, "failed"],
  ] as const)("%s", (_name, input, expected) => {
    const out = scanTaskOutcome({ ...input, verdicts: [...input.verdicts] });
    expect(out.state).toBe(expected);
    expect(out.error === null).toBe(expected === "succeeded");
  });
});
