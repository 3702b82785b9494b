// Addresses outside loopback and the lab (10.x, 1.2.3.4) in this file are data only: parsed, matched or stored, never dialled.
import { describe, expect, it } from "vitest";
import { defaultEndpoints, endpointsFor, HostInput } from "./model";

describe("endpoint defaults from roles", () => {
  it.each([
    [["exchange"], [25, 587]],
    [["postfix", "nginx"], [25, 443, 587]],
    [["dovecot"], [110, 143, 993, 995]],
    [["other"], []],
  ])("%j -> %j", (roles, ports) => {
    expect(defaultEndpoints(roles).map((e) => e.port)).toEqual(ports);
  });

  it("marks mail ports as STARTTLS and 993 as implicit", () => {
    const eps = defaultEndpoints(["dovecot"]);
    expect(eps.find((e) => e.port === 143)?.tlsStart).toBe("starttls");
    expect(eps.find((e) => e.port === 993)?.tlsStart).toBe("implicit");
  });
});

describe("host input", () => {
  it("parses a CSV-like row with lists and explicit endpoints", () => {
    const v = HostInput.parse({ name: "mx1.example.test", address: "198.18.0.10", platform: "linux", roles: "postfix;nginx", tags: "prod| EU ", endpoints: "25/smtp;8443/https;2525" });
    expect(v.roles).toEqual(["postfix", "nginx"]);
    expect(v.tags).toEqual(["prod", "eu"]);
    expect(endpointsFor(v).map((e) => `${e.port}/${e.service}`)).toEqual(["25/smtp", "8443/https", "2525/tls"]);
  });

  it.each([
    [{ name: "", address: "1.2.3.4" }, /Name is required/],
    [{ name: "mx; rm -rf /", address: "1.2.3.4" }, /Name: letters/],
    [{ name: "mx1", address: "$(reboot)" }, /Address must be/],
    [{ name: "mx1", address: "1.2.3.4", roles: "mailserver" }, /Role must be one of/],
    [{ name: "mx1", address: "1.2.3.4", endpoints: "70000/smtp" }, /out of range/],
    [{ name: "mx1", address: "1.2.3.4", endpoints: "25/gopher" }, /not PORT\/SERVICE/],
    [{ name: "mx1", address: "1.2.3.4", platform: "solaris" }, /./],
  ])("rejects %j", (input, message) => {
    const r = HostInput.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message).join("; ")).toMatch(message);
  });
});