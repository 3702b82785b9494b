// The Windows TEST DOUBLE's outbound connection (tests/lab/windows-double/outbound-client.ts):
// given tlsfleet's outbound check script, the double really connects to the outbound check sink
// with the TLS versions its own SCHANNEL/.NET model allows, and the sink (not the double, not
// tlsfleet) records what was offered and negotiated.
import { describe, expect, it } from "vitest";
import { parseWindowsOutboundReport, windowsOutboundArgv, windowsOutboundScript } from "../../../agents/tasks/outbound-windows";
import { startOutboundSink } from "../../../lib/outbound/sink";
import { recognizeOutboundScript } from "../../lab/windows-double/outbound-client";
import { runPowerShell, type PowerShellHost } from "../../lab/windows-double/powershell";
import type { SchannelVersion } from "../../lab/windows-double/schannel";
import { selfSignedCertificate } from "../../lab/peers/common";
import { recordingSink } from "../outbound/recording-sink";

const sink = recordingSink();
const TOKEN = "feedfacecafe0001";

const host = (versions: SchannelVersion[]): PowerShellHost => ({ bootedAt: new Date(), dotNetClientVersions: versions, signal: new AbortController().signal });

/** Runs the script through the double's powershell.exe; returns its stdout and the sink's record. */
async function check(versions: SchannelVersion[]) {
  let r: Awaited<ReturnType<typeof runPowerShell>> | undefined;
  const record = await sink.nextRecord(async () => {
    r = await runPowerShell(windowsOutboundArgv(windowsOutboundScript({ address: "127.0.0.1", port: sink.port }, TOKEN)), host(versions));
  });
  return { r: r!, report: parseWindowsOutboundReport(r!.stdout), record };
}

describe("the Windows double's outbound check connection", () => {
  it("recognises tlsfleet's script, and not one that picks its own protocols", () => {
    const script = windowsOutboundScript({ address: "198.18.0.1", port: 25 }, TOKEN);
    expect(recognizeOutboundScript(script)).toEqual({ address: "198.18.0.1", port: 25, targetHost: "198.18.0.1", recipient: `tlsfleet-check-${TOKEN}@[198.18.0.1]`, ehlo: `tlsfleet-check-${TOKEN}` });
    const forced = script.replace("$tls.AuthenticateAsClient('198.18.0.1')", "$tls.AuthenticateAsClient('198.18.0.1', $null, [System.Security.Authentication.SslProtocols]::Tls12, $false)");
    expect(recognizeOutboundScript(forced)).toBeNull();
    expect(recognizeOutboundScript(`[Net.ServicePointManager]::SecurityProtocol = 'Tls12'\r\n${script}`)).toBeNull();
    expect(recognizeOutboundScript(script.replace("'STARTTLS'", "'NOOP'"))).toBeNull();
  });

  it("TLS 1.0 only (.NET without SchUseStrongCrypto / SystemDefaultTlsVersions): the sink sees TLS 1.0 offered and refuses", async () => {
    const { r, report, record } = await check(["TLS 1.0"]);
    expect(r.exitCode).toBe(0);
    expect(record).toMatchObject({ startTls: true, negotiated: null, offered: { highest: "TLSv1", versions: null }, tokens: [], messages: 0, ehlo: `tlsfleet-check-${TOKEN}` });
    expect(record.failure).toMatch(/TLS handshake refused/);
    expect(report).toMatchObject({ step: "handshake", protocol: null, delivered: false });
    expect(report?.error).toContain("The client and server cannot communicate, because they do not possess a common algorithm");
  });

  it("TLS 1.0-1.2: negotiates TLS 1.2 and delivers the message with the check's token", async () => {
    const { report, record } = await check(["TLS 1.0", "TLS 1.1", "TLS 1.2"]);
    expect(record).toMatchObject({ startTls: true, negotiated: "TLSv1.2", tokens: [TOKEN], messages: 1, failure: null });
    expect(report).toMatchObject({ step: "quit", protocol: "Tls12", delivered: true, error: null });
  });

  it("a hole in the list (1.0 and 1.2, not 1.1) is honoured, and TLS 1.3 when the OS enables it", async () => {
    expect((await check(["TLS 1.0", "TLS 1.2"])).record.negotiated).toBe("TLSv1.2");
    expect((await check(["TLS 1.2", "TLS 1.3"])).record).toMatchObject({ negotiated: "TLSv1.3", offered: { versions: ["TLSv1.3", "TLSv1.2"] } });
  });

  it("no version enabled: SCHANNEL fails before any ClientHello", async () => {
    const { report, record } = await check([]);
    expect(record).toMatchObject({ startTls: true, offered: null, negotiated: null });
    expect(report?.error).toContain("do not possess a common algorithm");
  });

  it("a sink that is not listening: the host reports the refused connection", async () => {
    const closed = await startOutboundSink({ host: "127.0.0.1", port: 0, certificate: selfSignedCertificate("x.lab"), onRecord: () => undefined });
    const port = closed.port;
    await closed.close();
    const r = await runPowerShell(windowsOutboundArgv(windowsOutboundScript({ address: "127.0.0.1", port }, TOKEN)), host(["TLS 1.2"]));
    expect(parseWindowsOutboundReport(r.stdout)).toMatchObject({ step: "connect", error: expect.stringContaining("actively refused it 127.0.0.1:") });
  });
});
