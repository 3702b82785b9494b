import { describe, expect, it } from "vitest";
import { decisionProblem, exceptionScope, exceptionState, ExceptionRequestInput, expiryProblem, revokeProblem } from "./model";

const NOW = new Date("2026-12-07T12:00:00Z");
const base = { requestedById: "operator", approvedAt: null, rejectedAt: null, revokedAt: null, expiresAt: new Date("2027-01-07T00:00:00Z") };

describe("exception expiry", () => {
  it.each([
    ["in the past", "2026-12-07T11:59:00Z", /in the future/],
    ["right now", "2026-12-07T12:00:00Z", /in the future/],
    ["a month ahead", "2027-01-07T12:00:00Z", null],
    ["exactly 365 days ahead", "2027-12-07T12:00:00Z", null],
    ["366 days ahead", "2027-12-08T12:00:00Z", /at most 365 days/],
  ])("%s", (_label, at, expected) => {
    const problem = expiryProblem(new Date(at), NOW);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });
});

describe("exception state and decisions", () => {
  it.each([
    ["pending", base, "pending"],
    ["approved", { ...base, approvedAt: NOW }, "approved"],
    ["rejected", { ...base, rejectedAt: NOW }, "rejected"],
    ["revoked after approval", { ...base, approvedAt: NOW, revokedAt: NOW }, "revoked"],
    ["approved and past its expiry", { ...base, approvedAt: NOW, expiresAt: new Date("2026-12-01T00:00:00Z") }, "expired"],
  ] as const)("%s", (_label, e, state) => {
    expect(exceptionState(e, NOW)).toBe(state);
  });

  it("refuses the requester's own approval, even an admin's", () => {
    expect(decisionProblem(base, "operator", NOW)).toMatch(/another admin must approve/);
    expect(decisionProblem(base, "admin-2", NOW)).toBeNull();
  });

  it("refuses a decision on anything but a pending request", () => {
    expect(decisionProblem({ ...base, approvedAt: NOW }, "admin-2", NOW)).toMatch(/is approved/);
    expect(decisionProblem({ ...base, expiresAt: NOW }, "admin-2", NOW)).toMatch(/is expired/);
  });

  it("revokes pending and approved exceptions only", () => {
    expect(revokeProblem(base, NOW)).toBeNull();
    expect(revokeProblem({ ...base, approvedAt: NOW }, NOW)).toBeNull();
    expect(revokeProblem({ ...base, rejectedAt: NOW }, NOW)).toMatch(/rejected already/);
  });
});

describe("exception request form", () => {
  it("reads blank endpoint and version as every endpoint and every version", () => {
    const parsed = ExceptionRequestInput.parse({ hostId: "7d5f8a9e-2b1c-4d3e-8f6a-1b2c3d4e5f60", endpointPort: "", version: "", justification: "Legacy fax gateway, replaced in Q1", expiresAt: "2027-01-31" });
    expect(parsed).toMatchObject({ endpointPort: undefined, version: undefined });
    expect(parsed.expiresAt.toISOString()).toBe("2027-01-31T00:00:00.000Z");
  });

  it("requires a justification", () => {
    expect(ExceptionRequestInput.safeParse({ hostId: "7d5f8a9e-2b1c-4d3e-8f6a-1b2c3d4e5f60", justification: " ", expiresAt: "2027-01-31" }).success).toBe(false);
  });

  it("names its scope in the operator's words", () => {
    expect(exceptionScope({ endpointPort: 25, version: "TLSv1" })).toBe("TLS 1.0 on port 25");
    expect(exceptionScope({ endpointPort: null, version: null })).toBe("every version on every endpoint");
  });
});
