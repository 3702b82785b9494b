import { describe, expect, it } from "vitest";
import { acceptedVersions, wireMatchesBefore, wireMeetsGoals, type EndpointWire } from "./verify";

const ep = (label: string, p: [string, string, string, string], verdict = "compliant"): EndpointWire => ({
  label,
  verdict,
  protocols: { TLSv1: p[0], "TLSv1.1": p[1], "TLSv1.2": p[2], "TLSv1.3": p[3] } as EndpointWire["protocols"],
});

describe("wireMeetsGoals", () => {
  it.each([
    ["both goals met", ["enable-tls12", "disable-legacy"], [ep("25/smtp", ["rejected", "rejected", "accepted", "rejected"])], true, /Enable TLS 1.2 \+ Disable TLS 1.0\/1.1 verified on the wire on 25\/smtp/],
    ["TLS 1.0 still accepted", ["disable-legacy"], [ep("25/smtp", ["accepted", "rejected", "accepted", "rejected"])], false, /TLS 1.0 still accepted on 25\/smtp \(Disable TLS 1.0\/1.1 not met\)/],
    ["unknown is not rejected", ["disable-legacy"], [ep("25/smtp", ["unknown", "rejected", "accepted", "rejected"])], false, /TLS 1.0 on 25\/smtp could not be determined/],
    ["TLS 1.2 refused", ["enable-tls12"], [ep("443/https", ["accepted", "accepted", "rejected", "rejected"])], false, /TLS 1.2 still rejected on 443\/https/],
    ["enable-tls12 alone leaves legacy on", ["enable-tls12"], [ep("25/smtp", ["accepted", "accepted", "accepted", "rejected"])], true, /verified/],
    ["every endpoint counts", ["disable-legacy"], [ep("25/smtp", ["rejected", "rejected", "accepted", "rejected"]), ep("587/submission", ["rejected", "accepted", "accepted", "rejected"])], false, /TLS 1.1 still accepted on 587\/submission/],
    ["unreachable is not verified", ["enable-tls12"], [ep("25/smtp", ["unknown", "unknown", "unknown", "unknown"], "unreachable")], false, /25\/smtp unreachable/],
    ["no endpoints", ["enable-tls12"], [], false, /no endpoints/],
  ] as const)("%s", (_name, goals, endpoints, ok, text) => {
    const r = wireMeetsGoals(goals, endpoints);
    expect(r.ok).toBe(ok);
    expect(r.ok ? r.summary : r.reason).toMatch(text);
  });
});

describe("wireMatchesBefore", () => {
  const before = acceptedVersions([ep("25/smtp", ["accepted", "accepted", "accepted", "rejected"])]);
  it("a rollback that brings TLS 1.0 back matches", () => {
    expect(wireMatchesBefore(before, [ep("25/smtp", ["accepted", "accepted", "accepted", "rejected"])]).ok).toBe(true);
  });
  it("a host still refusing TLS 1.0 after the rollback does not", () => {
    const r = wireMatchesBefore(before, [ep("25/smtp", ["rejected", "rejected", "accepted", "rejected"])]);
    expect(r).toEqual({ ok: false, reason: "TLS 1.0 rejected on 25/smtp, but accepted before the rollout" });
  });
  it("ignores versions it cannot tell now", () => {
    expect(wireMatchesBefore(before, [ep("25/smtp", ["unknown", "accepted", "accepted", "rejected"])]).ok).toBe(true);
  });
});
