// `tlsfleet probe` as other tools call it: the --json lines must match the CLI contract
// (docs/architecture.md "The probe's verdict") exactly, checked with a zod schema, against a real TLS server on loopback.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createTcpServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { TLS13_FROM_SENTINEL } from "../../../lib/tls/version-schedule";
import { selfSignedCertificate } from "../../lab/peers/common";

const repoRoot = path.resolve(__dirname, "../../..");
// Each case starts a Node process through tsx; on a busy 2-core machine that alone takes seconds.
const CLI_TEST_TIMEOUT_MS = 60_000;

const outcome = z.enum(["accepted", "rejected", "unknown"]);
const versions = { TLSv1: outcome, "TLSv1.1": outcome, "TLSv1.2": outcome, "TLSv1.3": outcome };
const reason = z.string().min(1).nullable();
const ProbeReportJson = z
  .object({
    target: z.string().regex(/^(\[[0-9a-f:.]+\]|[^:\s]+):\d{1,5}$/i),
    service: z.enum(["smtp", "submission", "smtps", "https", "imap", "imaps", "pop3", "pop3s", "ldaps", "tls"]),
    starttls: z.enum(["offered", "not-offered", "not-applicable"]),
    protocols: z.object(versions).strict(),
    reasons: z.object({ TLSv1: reason, "TLSv1.1": reason, "TLSv1.2": reason, "TLSv1.3": reason }).strict(),
    notTested: z.array(z.string()),
    verdict: z.enum(["unreachable", "no-tls", "error", "at_risk", "noncompliant", "compliant"]),
    cipher: z.object({ TLSv1: z.string(), "TLSv1.1": z.string(), "TLSv1.2": z.string(), "TLSv1.3": z.string() }).partial().strict(),
    certificate: z
      .object({
        subject: z.string(),
        issuer: z.string(),
        san: z.array(z.string()),
        notBefore: z.iso.datetime(),
        notAfter: z.iso.datetime(),
      })
      .strict()
      .nullable(),
    error: z.string().nullable(),
    durationMs: z.number().int().nonnegative(),
    address: z.string().nullable().optional(),
  })
  .strict();

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

// Exactly as operators and the benchmark run it: `node bin/tlsfleet probe ...` from the repo root.
function tlsfleet(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/tlsfleet", "probe", ...args],
      { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === "number" ? error.code : error ? -1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function jsonLines(stdout: string): z.infer<typeof ProbeReportJson>[] {
  return stdout
    .trim()
    .split("\n")
    .map((line) => ProbeReportJson.parse(JSON.parse(line)));
}

let tlsServer: Server;
let tlsPort: number;
let closedPort: number;
let workDir: string;

beforeAll(async () => {
  const { key, cert } = selfSignedCertificate("cli.lab");
  tlsServer = createTlsServer({ key, cert, minVersion: "TLSv1.2", maxVersion: "TLSv1.3" }, (socket) => {
    socket.on("error", () => {});
    socket.resume();
    socket.on("end", () => socket.end());
  });
  tlsServer.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
  tlsPort = (tlsServer.address() as AddressInfo).port;
  // A port that is free right now: bound and released, so nothing listens there.
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  workDir = mkdtempSync(path.join(tmpdir(), "tlsfleet-cli-"));
});

afterAll(async () => {
  await new Promise((resolve) => tlsServer.close(resolve));
  rmSync(workDir, { recursive: true, force: true });
});

describe("tlsfleet probe --json", () => {
  it("prints one contract-shaped object for a TLS 1.2/1.3-only server and calls it compliant", async () => {
    const result = await tlsfleet([`127.0.0.1:${tlsPort}`, "--service", "https", "--json", "--timeout", "5000"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const [report, ...rest] = jsonLines(result.stdout);
    expect(rest).toHaveLength(0);
    expect(report).toMatchObject({
      target: `127.0.0.1:${tlsPort}`,
      service: "https",
      starttls: "not-applicable",
      protocols: { TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" },
      // Hello mode (the default): TLS 1.3 from the 1.2 ServerHello's downgrade sentinel, no 1.3 connection.
      reasons: { TLSv1: "protocol_version", "TLSv1.1": "protocol_version", "TLSv1.2": null, "TLSv1.3": TLS13_FROM_SENTINEL },
      notTested: ["SSLv3"],
      verdict: "compliant",
      error: null,
    });
    expect(Object.keys(report!.cipher).sort()).toEqual(["TLSv1.2"]);
    expect(report!.certificate).toMatchObject({ subject: "CN=cli.lab, O=tlsfleet lab", san: expect.arrayContaining(["DNS:cli.lab"]) });
  }, CLI_TEST_TIMEOUT_MS);

  it("streams --targets results in input order, unreachable ones included, with exit code 0", async () => {
    const file = path.join(workDir, "targets.txt");
    writeFileSync(file, `# two endpoints\n127.0.0.1:${closedPort} smtp\n\n127.0.0.1:${tlsPort} tls   # the real one\n`);
    const result = await tlsfleet(["--targets", file, "--concurrency", "4", "--json", "--timeout", "3000"]);
    expect(result.code).toBe(0);
    const reports = jsonLines(result.stdout);
    expect(reports.map((r) => [r.target, r.verdict])).toEqual([
      [`127.0.0.1:${closedPort}`, "unreachable"],
      [`127.0.0.1:${tlsPort}`, "compliant"],
    ]);
    expect(reports[0]!.error).toBe("connection refused");
  }, CLI_TEST_TIMEOUT_MS);

  it("--mode hello and --mode full give the same answer; each has the certificate", async () => {
    const [hello, full] = await Promise.all(
      ["hello", "full"].map((mode) => tlsfleet([`127.0.0.1:${tlsPort}`, "--service", "tls", "--json", "--mode", mode])),
    );
    const [h, f] = [jsonLines(hello.stdout)[0]!, jsonLines(full.stdout)[0]!];
    expect([hello.code, full.code]).toEqual([0, 0]);
    expect(h.protocols).toEqual(f.protocols);
    expect(h.verdict).toBe("compliant");
    expect(h.certificate).toEqual(f.certificate);
    // Full mode names the 1.3 suite; hello mode made no 1.3 connection (the sentinel proved it).
    expect(f.cipher["TLSv1.3"]).toMatch(/^TLS_/);
    expect(h.cipher["TLSv1.3"]).toBeUndefined();
  }, CLI_TEST_TIMEOUT_MS);

  it("refuses a target outside TLSFLEET_ALLOWED_TARGETS without connecting", async () => {
    let connections = 0;
    tlsServer.on("connection", () => connections++);
    const result = await tlsfleet([`127.0.0.1:${tlsPort}`, "--json"], { TLSFLEET_ALLOWED_TARGETS: "198.18.0.0/15" });
    expect(result.code).toBe(0);
    const [report] = jsonLines(result.stdout);
    expect(report).toMatchObject({ verdict: "error", error: "target not in allowed ranges" });
    expect(connections).toBe(0);
  }, CLI_TEST_TIMEOUT_MS);
});

describe("tlsfleet probe without --json", () => {
  it("prints an aligned table", async () => {
    const result = await tlsfleet([`127.0.0.1:${tlsPort}`, "--service", "tls"]);
    expect(result.code).toBe(0);
    const [header, row] = result.stdout.split("\n");
    expect(header).toMatch(/^TARGET\s+SERVICE\s+STARTTLS\s+TLS1\.0\s+TLS1\.1\s+TLS1\.2\s+TLS1\.3\s+VERDICT/);
    expect(row).toMatch(/rejected\s+rejected\s+accepted\s+accepted\s+compliant/);
    expect(row!.indexOf("compliant")).toBe(header!.indexOf("VERDICT"));
  }, CLI_TEST_TIMEOUT_MS);
});

describe("tlsfleet probe with bad arguments", () => {
  it.each([
    [["127.0.0.1:25", "--bogus"], /unknown option '--bogus'/],
    [["127.0.0.1:0"], /bad port '0'/],
    [["127.0.0.1:99999"], /bad port '99999'/],
    [["127.0.0.1:25", "--service", "gopher"], /unknown service 'gopher'/],
    [["--targets", "/nonexistent/targets.txt"], /cannot read targets file/],
    [["127.0.0.1:25", "--timeout", "soon"], /--timeout expects a whole number/],
    [["127.0.0.1:25", "--mode", "fast"], /--mode expects hello or full, got 'fast'/],
    [[], /missing HOST\[:PORT\] or --targets FILE/],
  ])("%j exits 2 with a message on stderr", async (args, message) => {
    const result = await tlsfleet(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
  }, CLI_TEST_TIMEOUT_MS);
});
