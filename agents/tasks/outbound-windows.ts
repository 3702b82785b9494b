// The outbound check on a Windows host: a PowerShell script that connects to the check sink as a
// .NET mail client would (Exchange's transport is .NET code on SCHANNEL), speaks SMTP, STARTTLS,
// and hands the handshake to SslStream with the machine's defaults, then delivers one message
// carrying the check's token (docs/outbound-check.md "Windows hosts").
//
// What is measured is the choice the OS and .NET make, so the script never names a protocol:
// SslStream.AuthenticateAsClient(targetHost) in .NET Framework 4.x uses
// ServicePointManager's default protocols, which follow the SchUseStrongCrypto /
// SystemDefaultTlsVersions values under HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319
// (Microsoft Learn, "Transport Layer Security (TLS) best practices with the .NET Framework"),
// and SCHANNEL drops any version whose Protocols\<version>\Client key has Enabled=0 (Microsoft
// Learn, "TLS registry settings"). Windows PowerShell 5.1 over WinRM is a 64-bit .NET 4.x
// process, so it reads the 64-bit view of those values.
//
// The host only reports what it did (parsed here for the task log and the failure text); the
// verdict comes from what the sink saw.
//
// The script is passed with -EncodedCommand (Base64 of UTF-16LE, Microsoft Learn
// "about_PowerShell_exe"): the command line then holds only [A-Za-z0-9+/=], nothing cmd.exe or
// the C runtime splitter could read as syntax. The only values in it are the sink's IP address,
// its port and the hex token, each validated here before it is written into the script.
import { isIP } from "node:net";
import { z } from "zod";
import type { RemoteSession } from "../transport/types";

/** PowerShell's start-up, a connection, a handshake and one message: seconds, even on a busy host. */
const SCRIPT_TIMEOUT_MS = 90_000;
/** The script's answer is one JSON line of a few hundred bytes. */
const SCRIPT_MAX_OUTPUT_BYTES = 64 * 1024;
/** cmd.exe refuses command lines longer than 8191 characters (Microsoft Learn, "Command prompt line string limitation"). */
export const CMD_LINE_LIMIT = 8191;
/** Each socket read or write may wait this long; the sink itself closes idle clients after 60 s. */
const IO_TIMEOUT_MS = 30_000;

export interface SinkAddress {
  address: string;
  port: number;
}

export class UnsafeScriptValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsafeScriptValueError";
  }
}

function checkedValues(sink: SinkAddress, token: string): { address: string; port: number; domain: string } {
  const family = isIP(sink.address);
  if (family === 0) throw new UnsafeScriptValueError(`the outbound check sink address must be an IP address for Windows hosts (got "${sink.address.slice(0, 80)}")`);
  if (!Number.isInteger(sink.port) || sink.port < 1 || sink.port > 65535) throw new UnsafeScriptValueError(`the outbound check sink port must be 1-65535 (got ${sink.port})`);
  if (!/^[0-9a-f]{8,64}$/.test(token)) throw new UnsafeScriptValueError("the check token must be 8-64 lower-case hex digits");
  // RFC 5321 4.1.3: an address literal, "IPv6:" tagged for IPv6.
  return { address: sink.address, port: sink.port, domain: family === 6 ? `[IPv6:${sink.address}]` : `[${sink.address}]` };
}

/** The PowerShell 5.1 script, for a validated sink address and token. */
export function windowsOutboundScript(sink: SinkAddress, token: string): string {
  const v = checkedValues(sink, token);
  return [
    "$ErrorActionPreference = 'Stop'",
    "$ProgressPreference = 'SilentlyContinue'",
    "$report = [ordered]@{ tlsfleetOutboundCheck = 1; step = 'connect'; banner = $null; starttls = $null; protocol = $null; cipher = $null; delivered = $false; error = $null }",
    "function Read-SmtpReply($reader) {",
    "  $lines = @()",
    "  while ($true) {",
    "    $line = $reader.ReadLine()",
    "    if ($null -eq $line) { throw 'the server closed the connection' }",
    "    $lines += $line",
    "    if ($line.Length -lt 4 -or $line[3] -ne '-') { break }",
    "  }",
    "  return ($lines -join ' / ')",
    "}",
    "function Send-SmtpCommand($writer, $reader, $command, $expect) {",
    "  $writer.Write($command + \"`r`n\")",
    "  $writer.Flush()",
    "  $reply = Read-SmtpReply $reader",
    "  if (-not $reply.StartsWith($expect)) { throw ('unexpected reply to ' + $command.Split(' ')[0] + ': ' + $reply) }",
    "  return $reply",
    "}",
    "$client = $null",
    "try {",
    "  $client = New-Object System.Net.Sockets.TcpClient",
    `  $client.ReceiveTimeout = ${IO_TIMEOUT_MS}`,
    `  $client.SendTimeout = ${IO_TIMEOUT_MS}`,
    `  $client.Connect('${v.address}', ${v.port})`,
    "  $plain = $client.GetStream()",
    "  $reader = New-Object System.IO.StreamReader($plain, [System.Text.Encoding]::ASCII)",
    "  $writer = New-Object System.IO.StreamWriter($plain, [System.Text.Encoding]::ASCII)",
    "  $report.step = 'banner'",
    "  $report.banner = Read-SmtpReply $reader",
    // The check's token as the EHLO name: it reaches the sink before STARTTLS, so even a refused
    // handshake is tied to this check (and not to another host behind the same address).
    `  $name = 'tlsfleet-check-${token}'`,
    "  $report.step = 'ehlo'",
    "  [void](Send-SmtpCommand $writer $reader ('EHLO ' + $name) '250')",
    "  $report.step = 'starttls'",
    "  $report.starttls = Send-SmtpCommand $writer $reader 'STARTTLS' '220'",
    "  $report.step = 'handshake'",
    // Opportunistic TLS, as Exchange's default send connector: the certificate is not the question.
    "  $accept = [System.Net.Security.RemoteCertificateValidationCallback]{ param($source, $certificate, $chain, $errors) $true }",
    "  $tls = New-Object System.Net.Security.SslStream($plain, $false, $accept)",
    `  $tls.AuthenticateAsClient('${v.address}')`,
    "  $report.protocol = [string]$tls.SslProtocol",
    "  $report.cipher = [string]$tls.CipherAlgorithm",
    "  $reader = New-Object System.IO.StreamReader($tls, [System.Text.Encoding]::ASCII)",
    "  $writer = New-Object System.IO.StreamWriter($tls, [System.Text.Encoding]::ASCII)",
    "  $report.step = 'message'",
    "  [void](Send-SmtpCommand $writer $reader ('EHLO ' + $name) '250')",
    "  [void](Send-SmtpCommand $writer $reader 'MAIL FROM:<>' '250')",
    `  [void](Send-SmtpCommand $writer $reader 'RCPT TO:<tlsfleet-check-${token}@${v.domain}>' '250')`,
    "  [void](Send-SmtpCommand $writer $reader 'DATA' '354')",
    `  [void](Send-SmtpCommand $writer $reader ("Subject: tlsfleet outbound TLS check ${token}\`r\`n\`r\`nThis message tests which TLS versions this host offers. It is not delivered anywhere.\`r\`n.") '250')`,
    "  $report.delivered = $true",
    "  $report.step = 'quit'",
    "  [void](Send-SmtpCommand $writer $reader 'QUIT' '221')",
    "} catch {",
    "  $e = $_.Exception",
    "  $message = $e.Message",
    "  while ($null -ne $e.InnerException) { $e = $e.InnerException; $message += ' -> ' + $e.Message }",
    "  $report.error = $message",
    "} finally {",
    "  if ($null -ne $client) { $client.Close() }",
    "}",
    "$report | ConvertTo-Json -Compress",
  ].join("\r\n");
}

/** powershell.exe with the script Base64-encoded (UTF-16LE), as -EncodedCommand takes it. */
export function windowsOutboundArgv(script: string): string[] {
  const encoded = Buffer.from(script, "utf16le").toString("base64");
  const argv = ["powershell.exe", "-NoProfile", "-NonInteractive", "-EncodedCommand", encoded];
  if (argv.join(" ").length > CMD_LINE_LIMIT) throw new UnsafeScriptValueError(`the outbound check script is too long for cmd.exe (${argv.join(" ").length} > ${CMD_LINE_LIMIT} characters)`);
  return argv;
}

const Report = z.object({
  tlsfleetOutboundCheck: z.literal(1),
  step: z.enum(["connect", "banner", "ehlo", "starttls", "handshake", "message", "quit"]),
  banner: z.string().max(4096).nullable(),
  starttls: z.string().max(4096).nullable(),
  protocol: z.string().max(64).nullable(),
  cipher: z.string().max(64).nullable(),
  delivered: z.boolean(),
  error: z.string().max(4096).nullable(),
});
export type WindowsOutboundReport = z.infer<typeof Report>;

/** The script's JSON line (the last line of stdout that is one); null when there is none. */
export function parseWindowsOutboundReport(stdout: string): WindowsOutboundReport | null {
  const lines = stdout.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.startsWith("{"));
  const last = lines[lines.length - 1];
  if (last === undefined) return null;
  try {
    const parsed = Report.safeParse(JSON.parse(last));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

// .NET's SslProtocols names (System.Security.Authentication.SslProtocols).
const PROTOCOL: Record<string, string> = { Ssl3: "SSL 3.0", Tls: "TLS 1.0", Tls11: "TLS 1.1", Tls12: "TLS 1.2", Tls13: "TLS 1.3" };
const STEP: Record<WindowsOutboundReport["step"], string> = {
  connect: "connecting",
  banner: "reading the greeting",
  ehlo: "at EHLO",
  starttls: "at STARTTLS",
  handshake: "in the TLS handshake",
  message: "sending the message",
  quit: "at QUIT",
};

/** One line for the task log, in the host's own words. */
export function describeWindowsReport(r: WindowsOutboundReport): string {
  if (r.error === null) return `the host reports ${r.protocol ? (PROTOCOL[r.protocol] ?? r.protocol) : "an unknown protocol"} (${r.cipher ?? "cipher unknown"}) and the message ${r.delivered ? "accepted" : "not sent"}`;
  return `the host reports a failure ${STEP[r.step]}: ${r.error.slice(0, 300)}`;
}

export interface WindowsSendResult {
  /** Null when the script's output was not its report (the reason is in `problem`). */
  report: WindowsOutboundReport | null;
  problem: string | null;
}

/** Runs the script on the host; the caller then reads what the sink saw. */
export async function sendFromWindows(s: RemoteSession, sink: SinkAddress, token: string, signal: AbortSignal): Promise<WindowsSendResult> {
  const r = await s.exec(windowsOutboundArgv(windowsOutboundScript(sink, token)), { timeoutMs: SCRIPT_TIMEOUT_MS, maxOutputBytes: SCRIPT_MAX_OUTPUT_BYTES, signal });
  const report = parseWindowsOutboundReport(r.stdout);
  if (report) return { report, problem: null };
  const said = (r.stderr.trim() || r.stdout.trim()).slice(0, 300) || "no output";
  return { report: null, problem: `powershell.exe on ${s.hostLabel} did not print the check's report (exit code ${r.exitCode ?? "none"}): ${said}` };
}
