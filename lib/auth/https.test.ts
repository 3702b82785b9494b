import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, isHttpsUrl, plainHttpWarning } from "./https";

describe("running behind TLS", () => {
  it.each([
    ["https://fleet.example.com", true],
    ["HTTPS://fleet.example.com/", true],
    ["http://fleet.example.com", false],
    [undefined, false],
  ])("%s is https: %s", (url, https) => {
    expect(isHttpsUrl(url)).toBe(https);
  });

  it.each([
    // [public URL, listen hosts, warns]
    ["https://fleet.example.com", [], false],
    ["http://localhost:3000", ["127.0.0.1", "::1"], false],
    ["http://127.0.0.1:3000", ["127.0.0.1"], false],
    ["http://localhost:3000", [], true],
    ["http://localhost:3000", ["0.0.0.0"], true],
    ["http://fleet.example.com", ["127.0.0.1"], true],
    ["http://192.0.2.10:3000", ["192.0.2.10"], true],
  ])("%s listening on %j warns: %s", (url, hosts, warns) => {
    const warning = plainHttpWarning(url, hosts);
    expect(Boolean(warning)).toBe(warns);
    if (warning) expect(warning).toMatch(/passwords and session cookies would cross the network unencrypted/);
  });

  it("allows scripts only with the nonce, never 'unsafe-inline'", () => {
    const csp = contentSecurityPolicy("abc123", { dev: false });
    const scriptSrc = csp.split("; ").find((d) => d.startsWith("script-src "))!;
    expect(scriptSrc).toBe("script-src 'self' 'nonce-abc123' 'strict-dynamic'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(contentSecurityPolicy("n", { dev: true })).toContain("'unsafe-eval'");
  });
});
