import { describe, expect, it } from "vitest";
import type { Outcome, StartTlsState, TlsVersion, Verdict } from "./types";
import { decideVerdict } from "./verdict";

const A = "accepted" as const;
const R = "rejected" as const;
const U = "unknown" as const;

function protocols(v10: Outcome, v11: Outcome, v12: Outcome, v13: Outcome): Record<TlsVersion, Outcome> {
  return { TLSv1: v10, "TLSv1.1": v11, "TLSv1.2": v12, "TLSv1.3": v13 };
}

// docs/architecture.md "The probe's verdict": first match wins.
const table: [string, boolean, StartTlsState, Record<TlsVersion, Outcome>, Verdict][] = [
  ["no TCP connection or no greeting", false, "not-applicable", protocols(U, U, U, U), "unreachable"],
  ["unreachable wins over anything learnt", false, "offered", protocols(A, A, A, A), "unreachable"],
  ["answers without STARTTLS (the 451 5.7.3 situation)", true, "not-offered", protocols(U, U, U, U), "no-tls"],
  ["no-tls wins over outcomes", true, "not-offered", protocols(A, R, A, R), "no-tls"],
  ["every version unknown", true, "offered", protocols(U, U, U, U), "error"],
  ["implicit TLS, every version unknown", true, "not-applicable", protocols(U, U, U, U), "error"],
  ["only TLS 1.0 accepted: at_risk comes before noncompliant", true, "offered", protocols(A, R, R, R), "at_risk"],
  ["TLS 1.2 rejected, 1.3 unknown", true, "offered", protocols(R, R, R, U), "at_risk"],
  ["TLS 1.2 and 1.3 unknown, legacy rejected", true, "offered", protocols(R, R, U, U), "at_risk"],
  ["TLS 1.0 accepted with 1.2", true, "offered", protocols(A, R, A, R), "noncompliant"],
  ["TLS 1.1 accepted with 1.3", true, "not-applicable", protocols(R, A, R, A), "noncompliant"],
  ["everything accepted", true, "offered", protocols(A, A, A, A), "noncompliant"],
  ["TLS 1.0 accepted even with 1.1 unknown", true, "offered", protocols(A, U, A, A), "noncompliant"],
  ["legacy rejected, 1.2 accepted", true, "offered", protocols(R, R, A, R), "compliant"],
  ["legacy rejected, only 1.3 accepted", true, "not-applicable", protocols(R, R, R, A), "compliant"],
  ["legacy rejected, 1.2 accepted, 1.3 unknown", true, "offered", protocols(R, R, A, U), "compliant"],
  ["TLS 1.0 unknown is not rejected", true, "offered", protocols(U, R, A, A), "error"],
  ["TLS 1.1 unknown is not rejected", true, "offered", protocols(R, U, A, A), "error"],
];

describe("decideVerdict", () => {
  it.each(table)("%s", (_, reachable, starttls, p, verdict) => {
    expect(decideVerdict({ reachable, starttls, protocols: p })).toBe(verdict);
  });

  it("never calls an endpoint compliant unless TLS 1.0 and 1.1 were both positively rejected", () => {
    const outcomes: Outcome[] = [A, R, U];
    for (const v10 of outcomes)
      for (const v11 of outcomes)
        for (const v12 of outcomes)
          for (const v13 of outcomes) {
            const verdict = decideVerdict({ reachable: true, starttls: "offered", protocols: protocols(v10, v11, v12, v13) });
            if (verdict === "compliant") expect([v10, v11]).toEqual([R, R]);
          }
  });
});
