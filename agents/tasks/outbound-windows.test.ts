import { describe, expect, it } from "vitest";
import { quoteWindowsCmd } from "../transport/quote";
import { CMD_LINE_LIMIT, describeWindowsReport, parseWindowsOutboundReport, UnsafeScriptValueError, windowsOutboundArgv, windowsOutboundScript } from "./outbound-windows";

const TOKEN = "0123456789abcdef";
const decoded = (argv: string[]) => Buffer.from(argv[4]!, "base64").toString("utf16le");

describe("the Windows outbound check script", () => {
  it("writes only the validated sink address, port and token into the script", () => {
    const script = windowsOutboundScript({ address: "198.18.0.1", port: 2525 }, TOKEN);
    expect(script).toContain("$client.Connect('198.18.0.1', 2525)");
    expect(script).toContain("$tls.AuthenticateAsClient('198.18.0.1')");
    expect(script).toContain(`'RCPT TO:<tlsfleet-check-${TOKEN}@[198.18.0.1]>'`);
    // The EHLO name carries the token before STARTTLS, so a refused handshake is still this check's.
    expect(script).toContain(`$name = 'tlsfleet-check-${TOKEN}'`);
    expect(windowsOutboundScript({ address: "::1", port: 25 }, TOKEN)).toContain(`@[IPv6:::1]>`);
  });

  it("never names a protocol version: the machine's SCHANNEL and .NET defaults are what is measured", () => {
    const script = windowsOutboundScript({ address: "198.18.0.1", port: 25 }, TOKEN);
    expect(script).not.toMatch(/SslProtocols|SecurityProtocol|Tls1[123]/i);
    expect(script).toMatch(/AuthenticateAsClient\('[^',]+'\)/);
  });

  it.each([
    [{ address: "mx.example.com", port: 25 }, TOKEN, /must be an IP address/],
    [{ address: "198.18.0.1'); Remove-Item C:\\ -Recurse; ('", port: 25 }, TOKEN, /must be an IP address/],
    [{ address: "198.18.0.1", port: 0 }, TOKEN, /port must be 1-65535/],
    [{ address: "198.18.0.1", port: 25.5 }, TOKEN, /port must be 1-65535/],
    [{ address: "198.18.0.1", port: 25 }, "abc'; exit", /token must be/],
    [{ address: "198.18.0.1", port: 25 }, "ABCDEF0123456789", /token must be/],
  ])("refuses %j / %s before writing a script", (sink, token, message) => {
    expect(() => windowsOutboundScript(sink, token)).toThrow(UnsafeScriptValueError);
    expect(() => windowsOutboundScript(sink, token)).toThrow(message);
  });

  it("passes the script as -EncodedCommand: Base64 of UTF-16LE, no cmd.exe syntax, within cmd.exe's line limit", () => {
    const script = windowsOutboundScript({ address: "198.18.0.1", port: 25 }, TOKEN);
    const argv = windowsOutboundArgv(script);
    expect(argv.slice(0, 4)).toEqual(["powershell.exe", "-NoProfile", "-NonInteractive", "-EncodedCommand"]);
    expect(argv[4]).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(decoded(argv)).toBe(script);
    const line = quoteWindowsCmd(argv);
    expect(line).toBe(argv.join(" "));
    expect(line.length).toBeLessThan(CMD_LINE_LIMIT);
    expect(() => windowsOutboundArgv("x".repeat(4000))).toThrow(/too long for cmd.exe/);
  });
});

describe("parseWindowsOutboundReport (what ConvertTo-Json -Compress prints in Windows PowerShell 5.1)", () => {
  it("reads a negotiated connection", () => {
    const out = '{"tlsfleetOutboundCheck":1,"step":"quit","banner":"220 sink ESMTP","starttls":"220 2.0.0 Ready to start TLS","protocol":"Tls12","cipher":"Aes256","delivered":true,"error":null}\r\n';
    const r = parseWindowsOutboundReport(out);
    expect(r).toMatchObject({ step: "quit", protocol: "Tls12", delivered: true, error: null });
    expect(describeWindowsReport(r!)).toBe("the host reports TLS 1.2 (Aes256) and the message accepted");
  });

  it("reads a failed handshake, with 5.1's \\u0027 and \\u003c escapes, after other output", () => {
    const out =
      "WARNING: something the profile printed\r\n" +
      '{"tlsfleetOutboundCheck":1,"step":"handshake","banner":"220 sink \\u003cok\\u003e","starttls":"220 2.0.0 Ready","protocol":null,"cipher":null,"delivered":false,"error":"Exception calling \\"AuthenticateAsClient\\" with \\"1\\" argument(s): \\"A call to SSPI failed, see inner exception.\\" -\\u003e The client and server cannot communicate, because they do not possess a common algorithm"}\r\n';
    const r = parseWindowsOutboundReport(out);
    expect(r?.banner).toBe("220 sink <ok>");
    expect(describeWindowsReport(r!)).toBe(
      'the host reports a failure in the TLS handshake: Exception calling "AuthenticateAsClient" with "1" argument(s): "A call to SSPI failed, see inner exception." -> The client and server cannot communicate, because they do not possess a common algorithm',
    );
  });

  it.each([
    ["", "no output"],
    ["not json\r\n", "not JSON"],
    ['{"tlsfleetOutboundCheck":1,"step":"teleport","banner":null,"starttls":null,"protocol":null,"cipher":null,"delivered":false,"error":null}', "an unknown step"],
    ['{"step":"quit","banner":null,"starttls":null,"protocol":null,"cipher":null,"delivered":true,"error":null}', "no marker"],
    ['{"tlsfleetOutboundCheck":1,"step":"quit",', "cut off"],
  ])("returns null for %j (%s)", (out) => {
    expect(parseWindowsOutboundReport(out)).toBeNull();
  });
});
