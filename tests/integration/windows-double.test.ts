// The Windows side end to end, against the Windows TEST DOUBLE (tests/lab/windows-double): no
// real Windows can run here, so the double stands in for an Exchange server, following the
// documented behaviour of WinRM, Windows OpenSSH (cmd.exe), reg.exe and SCHANNEL.
//
// - the WinRM client over HTTPS (Basic, NTLM, pinned or CA-validated certificate) and HTTP (NTLM
//   with message encryption), its failure modes, long and endless commands, output caps;
// - the KB scenario ("Cannot send or receive email when using TLS 1.1 or TLS 1.0") over WinRM and
//   over SSH (agents/transport/ssh.ts to the double's Windows OpenSSH): legacy host -> check -> plan -> apply -> still legacy on the wire until the restart
//   -> reboot -> TLS 1.2 on the wire -> rollback;
// - argv injection: hostile values reach reg.exe / shutdown.exe as data.

import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllowList, probeEndpoint } from "../../lib/tls";
import { windowsSchannel, type SchannelState } from "../../agents/playbooks/windows-schannel";
import { openSshSession } from "../../agents/transport/ssh";
import { openWinRmSession, type WinRmOptions } from "../../agents/transport/winrm";
import {
  AuthError,
  HostKeyMismatchError,
  RemoteOutputLimitError,
  RemoteTimeoutError,
  TransportError,
  type RemoteSession,
} from "../../agents/transport/types";
import { startDouble as startRunningDouble, type RunningDouble } from "./windows-double-support";

interface DoubleEvent {
  type: string;
  [k: string]: unknown;
}

interface Double extends RunningDouble {
  events(): DoubleEvent[];
  bootCount(): number;
  waitForBoot(count: number): Promise<void>;
}

async function startDouble(profile: string): Promise<Double> {
  const double = await startRunningDouble(profile, { rebootDowntimeMs: 800 });
  const { stateDir } = double;
  const status = () => JSON.parse(readFileSync(path.join(stateDir, "status.json"), "utf8")) as { up: boolean; bootCount: number };
  const events = (): DoubleEvent[] =>
    readFileSync(path.join(stateDir, "events.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .flatMap((l) => {
        // The double may be appending the last line right now.
        try {
          return [JSON.parse(l) as DoubleEvent];
        } catch {
          return [];
        }
      });
  return {
    ...double,
    events,
    bootCount: () => status().bootCount,
    async waitForBoot(count) {
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        const s = status();
        // "listening" is logged once every listener is back after the boot.
        const listening = events().filter((e) => e.type === "listening").length;
        if (s.up && s.bootCount >= count && listening >= count) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`the double did not come back (boot ${count})`);
    },
  };
}

/** The double for the enclosing describe: started before its tests (handed to `started`), stopped after them. */
function doubleForBlock(profile: string, started: (d: Double) => void): void {
  let d: Double | undefined;
  beforeAll(async () => {
    d = await startDouble(profile);
    started(d);
  });
  afterAll(async () => {
    await d?.stop();
  });
}

// What a client negotiating exactly one version gets from the double's SMTP STARTTLS.
async function smtpTls(port: number, version: tls.SecureVersion): Promise<"accepted" | "rejected"> {
  const socket = net.connect({ host: "127.0.0.1", port });
  let buffer = "";
  const waitFor = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`SMTP: no ${re} in ${buffer}`)), 5000);
      const check = () => {
        const m = re.exec(buffer);
        if (!m) return;
        clearTimeout(t);
        socket.off("data", onData);
        const all = buffer;
        buffer = buffer.slice(m.index + m[0].length);
        resolve(all);
      };
      const onData = (d: Buffer) => {
        buffer += d.toString("latin1");
        check();
      };
      socket.on("data", onData);
      check();
    });
  try {
    await waitFor(/^220 .*\r\n/m);
    socket.write("EHLO tlsfleet.test\r\n");
    const ehlo = await waitFor(/^250 .*\r\n/m);
    expect(ehlo).toMatch(/^250-STARTTLS\r$/m);
    socket.write("STARTTLS\r\n");
    await waitFor(/^220 .*\r\n/m);
    return await new Promise((resolve) => {
      const t = tls.connect({ socket, minVersion: version, maxVersion: version, ciphers: "ALL:@SECLEVEL=0", rejectUnauthorized: false });
      t.once("secureConnect", () => {
        const negotiated = t.getProtocol();
        t.destroy();
        resolve(negotiated === version ? "accepted" : "rejected");
      });
      t.once("error", () => resolve("rejected"));
    });
  } finally {
    socket.destroy();
  }
}

async function wireVersions(port: number): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const v of ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const) out[v] = await smtpTls(port, v);
  return out;
}

/** The product's SSH transport to the double's Windows OpenSSH: host key pinned, argv quoted for
 *  cmd.exe. An SSH session is one connection, so after a restart the caller opens a new one. */
function ssh(d: Double): Promise<RemoteSession> {
  return openSshSession({
    host: "127.0.0.1",
    port: d.ready.ports.ssh,
    hostLabel: `${d.ready.hostname} (ssh)`,
    credential: { kind: "ssh-key", username: d.ready.user, privateKey: readFileSync(d.ready.ssh.clientKey) },
    remoteOs: "windows",
    pinnedFingerprint: `SHA256:${d.ready.ssh.hostKeySha256}`,
    requirePinned: true,
  });
}

function winrm(d: Double, o: Partial<WinRmOptions> & Pick<WinRmOptions, "transport">): WinRmOptions {
  return {
    host: "127.0.0.1",
    port: o.transport === "https" ? d.ready.ports.winrmHttps : d.ready.ports.winrmHttp,
    auth: { kind: "ntlm", username: d.ready.user, password: d.ready.password },
    hostLabel: `${d.ready.hostname} (winrm ${o.transport})`,
    ...o,
  };
}

// ---------------------------------------------------------------------------------------------

describe("WinRM client against the Windows test double (Server 2019, TLS 1.2 available)", () => {
  let d: Double;
  doubleForBlock("modern-2019", (started) => (d = started));

  it("HTTPS + Basic with a pinned SHA-1 thumbprint runs a command and returns its output and exit code", async () => {
    const s = await openWinRmSession(winrm(d, { transport: "https", auth: { kind: "basic", username: d.ready.user, password: d.ready.password }, tls: { thumbprint: d.ready.certificate.sha1 } }));
    try {
      expect(await s.exec(["hostname"])).toMatchObject({ exitCode: 0, stdout: "EX2019-MB1\r\n", stderr: "", truncated: false });
      const missing = await s.exec(["reg", "query", "HKLM\\SOFTWARE\\NoSuchKey"]);
      expect(missing).toMatchObject({ exitCode: 1, stdout: "", stderr: "ERROR: The system was unable to find the specified registry key or value.\r\n" });
    } finally {
      await s.close();
    }
    const create = d.events().find((e) => e.type === "winrm-create");
    // UTF-8 console output and no profile, as the client asks for.
    expect(create?.options).toMatchObject({ WINRS_CODEPAGE: "65001", WINRS_NOPROFILE: "TRUE" });
  });

  it("HTTPS + NTLM with a SHA-256 pin sends channel bindings and keeps UTF-8 intact", async () => {
    const s = await openWinRmSession(winrm(d, { transport: "https", tls: { thumbprint: d.ready.certificate.sha256 } }));
    try {
      const text = "zażółć gęślą jaźń";
      expect((await s.exec(["reg", "add", "HKLM\\SOFTWARE\\tlsfleet-test", "/v", "Note", "/t", "REG_SZ", "/d", text, "/f"])).exitCode).toBe(0);
      const r = await s.exec(["reg", "query", "HKLM\\SOFTWARE\\tlsfleet-test", "/v", "Note"]);
      expect(r.stdout).toContain(`    Note    REG_SZ    ${text}\r\n`);
    } finally {
      await s.close();
    }
  });

  it("HTTPS + NTLM with certificate validation against a CA file (no pin)", async () => {
    const s = await openWinRmSession(winrm(d, { transport: "https", tls: { caFile: d.ready.certificate.pem } }));
    try {
      expect((await s.exec(["whoami"])).stdout).toBe("ex2019-mb1\\administrator\r\n");
    } finally {
      await s.close();
    }
  });

  it("stays inside the allowed targets: refused before any packet, allowed by name via its resolved address", async () => {
    const before = d.events().length;
    const outside = openWinRmSession(winrm(d, { transport: "http", allowList: parseAllowList("198.18.0.0/15") }));
    await expect(outside).rejects.toMatchObject({ code: "config" });
    await expect(outside).rejects.toThrow(/outside the allowed targets/);
    expect(d.events().length).toBe(before);
    // "localhost" is not under any allowed DNS suffix, but resolves into 127.0.0.0/8; the
    // certificate is then checked against the name (its SAN has DNS:localhost).
    const s = await openWinRmSession(
      winrm(d, { host: "localhost", transport: "https", tls: { caFile: d.ready.certificate.pem }, allowList: parseAllowList("127.0.0.0/8, 198.18.0.0/15") }),
    );
    try {
      expect((await s.exec(["hostname"])).exitCode).toBe(0);
    } finally {
      await s.close();
    }
  });

  it("HTTP + NTLM: every message is sealed (WinRM requires encryption over HTTP)", async () => {
    const s = await openWinRmSession(winrm(d, { transport: "http" }));
    try {
      expect(await s.exec(["hostname"])).toMatchObject({ exitCode: 0, stdout: "EX2019-MB1\r\n" });
    } finally {
      await s.close();
    }
    expect(d.events().some((e) => e.type === "auth" && e.sealed === true)).toBe(true);
  });

  it("refuses Basic over HTTP before connecting", async () => {
    const before = d.events().length;
    await expect(openWinRmSession(winrm(d, { transport: "http", auth: { kind: "basic", username: d.ready.user, password: d.ready.password } }))).rejects.toMatchObject({
      code: "config",
    });
    expect(d.events().length).toBe(before);
  });

  it.each([
    ["HTTPS Basic", "https", "basic"],
    ["HTTPS NTLM", "https", "ntlm"],
    ["HTTP NTLM", "http", "ntlm"],
  ] as const)("a wrong password over %s is an AuthError", async (_name, transport, kind) => {
    const p = openWinRmSession(
      winrm(d, { transport, auth: { kind, username: d.ready.user, password: "wrong" }, tls: transport === "https" ? { thumbprint: d.ready.certificate.sha1 } : undefined }),
    );
    await expect(p).rejects.toBeInstanceOf(AuthError);
    await expect(p).rejects.toThrow(/refused the credentials/);
  });

  it("a pinned thumbprint that does not match is refused before anything is sent", async () => {
    const before = d.events().filter((e) => e.type === "auth" || e.type === "auth-failure" || e.type === "winrm-create").length;
    const wrong = "00".repeat(20);
    const p = openWinRmSession(winrm(d, { transport: "https", auth: { kind: "basic", username: d.ready.user, password: d.ready.password }, tls: { thumbprint: wrong } }));
    await expect(p).rejects.toBeInstanceOf(HostKeyMismatchError);
    await expect(p).rejects.toThrow(/WinRM certificate for .* changed/);
    expect(d.events().filter((e) => e.type === "auth" || e.type === "auth-failure" || e.type === "winrm-create").length).toBe(before);
  });

  it("an unpinned self-signed certificate is refused by default", async () => {
    const p = openWinRmSession(winrm(d, { transport: "https", auth: { kind: "basic", username: d.ready.user, password: d.ready.password } }));
    await expect(p).rejects.toMatchObject({ code: "certificate" });
    await expect(p).rejects.toThrow(/not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
  });

  it("a silent long-running command is collected over several Receives that time out (0x80338029)", async () => {
    const s = await openWinRmSession(winrm(d, { transport: "http", operationTimeoutSec: 1 }));
    try {
      const before = d.events().filter((e) => e.type === "winrm-receive-timeout").length;
      const r = await s.exec(["waitfor", "/t", "4", "tlsfleetSignal"], { timeoutMs: 20_000 });
      expect(r).toMatchObject({ exitCode: 1, stdout: "", stderr: "ERROR: Timed out waiting for 'tlsfleetSignal'.\r\n" });
      expect(r.durationMs).toBeGreaterThanOrEqual(3900);
      expect(d.events().filter((e) => e.type === "winrm-receive-timeout").length - before).toBeGreaterThanOrEqual(2);
    } finally {
      await s.close();
    }
  });

  it("streams output that arrives over time", async () => {
    const s = await openWinRmSession(winrm(d, { transport: "https", tls: { thumbprint: d.ready.certificate.sha1 } }));
    try {
      const r = await s.exec(["ping", "-n", "3", "127.0.0.1"], { timeoutMs: 20_000 });
      expect(r.exitCode).toBe(0);
      expect(r.stdout.match(/Reply from 127\.0\.0\.1/g)).toHaveLength(3);
    } finally {
      await s.close();
    }
  });

  it("huge output is capped: an error by default, a truncated result on request, and the command is stopped", async () => {
    const s = await openWinRmSession(winrm(d, { transport: "http" }));
    try {
      const big = ["type", "C:\\Windows\\Logs\\CBS\\CBS.log"];
      await expect(s.exec(big, { maxOutputBytes: 512 * 1024 })).rejects.toBeInstanceOf(RemoteOutputLimitError);
      const r = await s.exec(big, { maxOutputBytes: 512 * 1024, onOutputLimit: "truncate" });
      expect(r.truncated).toBe(true);
      expect(r.exitCode).toBeNull();
      expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(512 * 1024);
      expect(r.stdout.startsWith("2026-11-28 10:02:03, Info")).toBe(true);
      expect(d.events().filter((e) => e.type === "winrm-signal-terminate" && String(e.line).startsWith("type ")).length).toBe(2);
      // The session is still usable afterwards.
      expect((await s.exec(["hostname"])).exitCode).toBe(0);
    } finally {
      await s.close();
    }
  });

  it("a command that never ends times out, is terminated (Signal) and its shell deleted; the session recovers", async () => {
    const s = await openWinRmSession(winrm(d, { transport: "https", tls: { thumbprint: d.ready.certificate.sha256 }, operationTimeoutSec: 1 }));
    try {
      const p = s.exec(["ping", "-t", "127.0.0.1"], { timeoutMs: 2500 });
      await expect(p).rejects.toBeInstanceOf(RemoteTimeoutError);
      await expect(p).rejects.toThrow(/did not finish within 3 s; it was stopped/);
      const events = d.events();
      expect(events.some((e) => e.type === "winrm-signal-terminate" && e.line === "ping -t 127.0.0.1")).toBe(true);
      expect(events.some((e) => e.type === "terminated" && e.line === "ping -t 127.0.0.1")).toBe(true);
      expect(events[events.length - 1]?.type).toBe("winrm-delete");
      expect((await s.exec(["hostname"])).stdout).toBe("EX2019-MB1\r\n");
    } finally {
      await s.close();
    }
  });

  it("a cancelled job stops its command (ExecOptions.signal)", async () => {
    const s = await openWinRmSession(winrm(d, { transport: "http", operationTimeoutSec: 1 }));
    try {
      const controller = new AbortController();
      const p = s.exec(["ping", "-t", "127.0.0.1"], { signal: controller.signal, timeoutMs: 30_000 });
      setTimeout(() => controller.abort(new Error("operator cancelled the job")), 1500);
      await expect(p).rejects.toMatchObject({ code: "aborted" });
      expect(d.events().some((e) => e.type === "winrm-signal-terminate" && e.line === "ping -t 127.0.0.1")).toBe(true);
      await expect(s.exec(["hostname"], { signal: controller.signal })).rejects.toThrow(/cancelled before it started/);
    } finally {
      await s.close();
    }
  });

  it("stdin reaches the command and is then closed (reg.exe's overwrite prompt)", async () => {
    const s = await openWinRmSession(winrm(d, { transport: "http" }));
    try {
      await s.exec(["reg", "add", "HKLM\\SOFTWARE\\tlsfleet-test", "/v", "N", "/t", "REG_DWORD", "/d", "1", "/f"]);
      const declined = await s.exec(["reg", "add", "HKLM\\SOFTWARE\\tlsfleet-test", "/v", "N", "/t", "REG_DWORD", "/d", "2"]);
      expect(declined.exitCode).toBe(1);
      const accepted = await s.exec(["reg", "add", "HKLM\\SOFTWARE\\tlsfleet-test", "/v", "N", "/t", "REG_DWORD", "/d", "3"], { stdin: "Yes\r\n" });
      expect(accepted.exitCode).toBe(0);
      expect((await s.exec(["reg", "query", "HKLM\\SOFTWARE\\tlsfleet-test", "/v", "N"])).stdout).toContain("    N    REG_DWORD    0x3\r\n");
    } finally {
      await s.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

const HOSTILE = 'HKLM\\SOFTWARE\\Contoso & del /q C:\\Windows ; rm -rf / | whoami > C:\\out %PATH% ^ "x"';

describe.each([
  ["WinRM (HTTP, NTLM sealed)", "winrm"],
  ["SSH (Windows OpenSSH, cmd.exe)", "ssh"],
] as const)("KB scenario over %s against the Windows test double (legacy Exchange 2013 on 2012 R2)", (_name, transport) => {
  let d: Double;
  let s: RemoteSession;
  beforeAll(async () => {
    d = await startDouble("legacy-2012r2");
    s = await connect();
  });
  afterAll(async () => {
    await s?.close();
    await d?.stop();
  });

  const smtp = () => d.ready.ports.smtp;
  const connect = (): Promise<RemoteSession> => (transport === "winrm" ? openWinRmSession(winrm(d, { transport: "http" })) : ssh(d));
  /** Waits for the restart. The WinRM session survives it (it re-authenticates and recreates its
   *  shell); an SSH session is a connection that the restart dropped, so a new one is opened. */
  const restarted = async (boot: number) => {
    await d.waitForBoot(boot);
    if (transport === "ssh") {
      await s.close();
      s = await connect();
    }
  };

  it("check -> plan -> apply -> pending reboot -> reboot -> TLS 1.2 on the wire -> rollback", async () => {
    // The legacy host: HealthChecker says TLS 1.2 Disabled (red); the wire agrees.
    const legacy = await windowsSchannel.check(s);
    expect(legacy.healthChecker.versions["TLS 1.2"]).toMatchObject({ configuration: "Disabled", color: "red" });
    expect(legacy.healthChecker.color).toBe("red");
    expect(legacy).toMatchObject({ tls12Enabled: false, legacyEnabled: true, rebootPending: false });
    expect(legacy.os.family).toBe("2012 R2");
    expect(legacy.exchange?.product).toBe("Exchange 2013");
    expect(await wireVersions(smtp())).toEqual({ TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "rejected", "TLSv1.3": "rejected" });
    expect((await probeEndpoint({ host: "127.0.0.1", port: smtp(), service: "smtp" })).verdict).toBe("at_risk");

    // Plan: the complete fix, 4 SCHANNEL + 8 .NET values.
    const changes = windowsSchannel.plan(legacy, "enable-tls12");
    expect(changes).toHaveLength(12);

    // Apply: written and verified, but SCHANNEL has not re-read its keys yet.
    const applied = await windowsSchannel.apply(s, changes);
    expect(applied.pendingReboot).toBe(true);
    expect(applied.changes).toHaveLength(12);
    expect((applied.before as SchannelState).protocols["TLS 1.2"].Server).toEqual({ Enabled: 0, DisabledByDefault: 1 });
    const afterApply = applied.after as SchannelState;
    expect(afterApply.tls12Enabled).toBe(true);
    expect(afterApply.healthChecker.versions["TLS 1.2"].configuration).toBe("Enabled");
    expect(await wireVersions(smtp())).toEqual({ TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "rejected", "TLSv1.3": "rejected" });

    // Idempotent: applying again writes nothing.
    const again = await windowsSchannel.apply(s, changes);
    expect(again.changes).toEqual([]);
    expect(again.pendingReboot).toBe(false);

    // Reboot: the double goes down, comes back with the new SCHANNEL settings.
    const boots = d.bootCount();
    await windowsSchannel.reboot(s, { delaySeconds: 1, message: "tlsfleet: enabling TLS 1.2 (KB fix)" });
    await restarted(boots + 1);
    expect(await wireVersions(smtp())).toEqual({ TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "rejected" });
    expect((await probeEndpoint({ host: "127.0.0.1", port: smtp(), service: "smtp" })).verdict).toBe("noncompliant");

    const fixed = await windowsSchannel.check(s);
    expect(fixed.tls12Enabled).toBe(true);
    expect(fixed.rebootPending).toBe(false);

    if (transport === "winrm") {
      // Finish the job: TLS 1.0/1.1 off, restart, compliant on the wire.
      const disable = await windowsSchannel.apply(s, windowsSchannel.plan(fixed, "disable-legacy"));
      expect(disable.changes).toHaveLength(8);
      expect((disable.after as SchannelState).healthChecker.color).toBe("green");
      await windowsSchannel.reboot(s, { delaySeconds: 0, message: "tlsfleet: disabling TLS 1.0/1.1" });
      await restarted(boots + 2);
      expect(await wireVersions(smtp())).toEqual({ TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "rejected" });
      expect((await probeEndpoint({ host: "127.0.0.1", port: smtp(), service: "smtp" })).verdict).toBe("compliant");
    }

    // Rollback to the original snapshot: values restored, values absent before deleted.
    const rolled = await windowsSchannel.rollback(s, applied.before);
    expect(rolled.pendingReboot).toBe(true);
    const restored = rolled.after as SchannelState;
    expect(restored.protocols).toEqual(legacy.protocols);
    expect(restored.dotnet).toEqual(legacy.dotnet);
    expect(d.events().some((e) => e.type === "registry-write" && e.op === "delete-value" && e.name === "SchUseStrongCrypto")).toBe(true);
    const beforeRollbackBoot = d.bootCount();
    await windowsSchannel.reboot(s, { delaySeconds: 0, message: "tlsfleet: rollback" });
    await restarted(beforeRollbackBoot + 1);
    expect(await wireVersions(smtp())).toEqual({ TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "rejected", "TLSv1.3": "rejected" });
  });

  it("Windows' own reboot-pending indicators are reported, and cleared by a restart", async () => {
    const cbs = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending";
    expect((await s.exec(["reg", "add", cbs, "/f"])).exitCode).toBe(0);
    const pending = await windowsSchannel.check(s);
    expect(pending.rebootPending).toBe(true);
    expect(pending.rebootIndicators.componentBasedServicing).toBe(true);
    const boots = d.bootCount();
    await windowsSchannel.reboot(s, { delaySeconds: 0, message: "servicing" });
    await restarted(boots + 1);
    expect((await windowsSchannel.check(s)).rebootPending).toBe(false);
  });

  it("hostile values reach reg.exe and shutdown.exe as data, never as commands", async () => {
    const r = await s.exec(["reg", "query", HOSTILE]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe("ERROR: The system was unable to find the specified registry key or value.\r\n");
    const message = 'tlsfleet & del C:\\boot.ini ; rm -rf / %COMPUTERNAME% "quoted" ^caret';
    await windowsSchannel.reboot(s, { delaySeconds: 600, message });
    expect((await s.exec(["shutdown", "/a"])).exitCode).toBe(0);

    const events = d.events();
    const execs = events.filter((e) => e.type === "exec");
    expect(execs.some((e) => e.program === "reg" && JSON.stringify(e.argv) === JSON.stringify(["reg", "query", HOSTILE]))).toBe(true);
    expect(events.some((e) => e.type === "shutdown" && e.message === message && e.delay === 600)).toBe(true);
    // Nothing but the programs we ran was ever started (the reboot reads the boot time with one
    // fixed PowerShell query first), and no redirection wrote a file.
    expect(new Set(execs.map((e) => e.program))).toEqual(new Set(["reg", "powershell", "shutdown"]));
    for (const e of execs.filter((x) => x.program === "powershell")) expect(JSON.stringify(e.argv)).toContain("LastBootUpTime");
    expect(events.filter((e) => e.type === "destructive-command" || e.type === "file-write")).toEqual([]);
  });

  it("a value cmd.exe cannot carry is refused before it is sent", async () => {
    const before = d.events().length;
    await expect(s.exec(["reg", "query", "HKLM\\SOFTWARE\\a\r\nshutdown /s"])).rejects.toMatchObject({ code: "unquotable" });
    await expect(windowsSchannel.reboot(s, { delaySeconds: 60, message: "Done!" })).rejects.toThrow(/"!"/);
    await expect(s.exec(["reg", "query", "x\n"])).rejects.toBeInstanceOf(TransportError);
    expect(d.events().length).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------

describe("boot identity (Win32_OperatingSystem.LastBootUpTime) against the Windows test double", () => {
  const bootIdentity = import("../../agents/playbooks/boot-identity");
  let d: Double;
  doubleForBlock("legacy-2012r2", (started) => (d = started));

  const bootedAt = () => (JSON.parse(readFileSync(path.join(d.stateDir, "status.json"), "utf8")) as { bootedAt: string }).bootedAt;
  const readWith = async (open: () => Promise<RemoteSession>): Promise<string> => {
    const { readBootIdentity } = await bootIdentity;
    const s = await open();
    try {
      return await readBootIdentity(s);
    } finally {
      await s.close();
    }
  };
  const overWinRm = () => openWinRmSession(winrm(d, { transport: "http" }));
  const overSsh = () => ssh(d);

  it("is the same over WinRM and SSH within one boot, and changes with a restart", async () => {
    const before = await readWith(overWinRm);
    expect(before).toMatch(/^windows-boot:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    // The double's boot time in .NET's round-trip format (milliseconds, so four trailing zeros).
    expect(before).toBe(`windows-boot:${bootedAt().replace(/Z$/, "0000Z")}`);
    expect(await readWith(overWinRm)).toBe(before);
    expect(await readWith(overSsh)).toBe(before);

    const boots = d.bootCount();
    const s = await overWinRm();
    try {
      await windowsSchannel.reboot(s, { delaySeconds: 0, message: "tlsfleet: boot identity test" });
    } finally {
      await s.close();
    }
    await d.waitForBoot(boots + 1);

    const after = await readWith(overWinRm);
    expect(after).not.toBe(before);
    expect(after > before).toBe(true);
    expect(after).toBe(`windows-boot:${bootedAt().replace(/Z$/, "0000Z")}`);
    expect(await readWith(overSsh)).toBe(after);
    const queries = d.events().filter((e) => e.type === "exec" && e.program === "powershell");
    expect(queries.map((e) => e.via)).toEqual(["winrm", "winrm", "ssh", "winrm", "ssh"]);
    // Through cmd.exe's quoting the script arrived as the one argument after -Command.
    const { WINDOWS_LAST_BOOT_ARGV } = await bootIdentity;
    for (const q of queries) expect(q.argv).toEqual(WINDOWS_LAST_BOOT_ARGV);
    expect(d.events().some((e) => e.type === "powershell-unsupported")).toBe(false);
  });

  it("powershell.exe takes its parameters in any case, and refuses a script the double does not emulate (exit 1)", async () => {
    const s = await overSsh();
    try {
      const script = "(Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')";
      const lower = await s.exec(["powershell", "-noprofile", "-noninteractive", "-command", script], { timeoutMs: 30_000 });
      expect(lower).toMatchObject({ exitCode: 0, stdout: `${bootedAt().replace(/Z$/, "0000Z")}\r\n`, stderr: "" });

      const other = await s.exec(["powershell.exe", "-NoProfile", "-NonInteractive", "-Command", "Get-Service W3SVC"], { timeoutMs: 30_000 });
      expect(other.exitCode).toBe(1);
      expect(other.stdout).toBe("");
      expect(other.stderr).toMatch(/^Get-Service : The term 'Get-Service' is not recognized as the name of a cmdlet, function, script file, or operable program\./);
      expect(other.stderr).toContain("CommandNotFoundException");
    } finally {
      await s.close();
    }
    expect(d.events().filter((e) => e.type === "powershell-unsupported").map((e) => e.script)).toEqual(["Get-Service W3SVC"]);
  });
});

// ---------------------------------------------------------------------------------------------

/** What an audit concludes from a check (everything but the raw outputs and the time). */
function verdicts(s: SchannelState) {
  // When it was read and when that machine last booted are the host's, not verdicts.
  const { raw: _raw, collectedAt: _at, lastBootAt: _boot, ...rest } = s;
  return rest;
}

async function checkOver(open: () => Promise<RemoteSession>): Promise<SchannelState> {
  const s = await open();
  try {
    return await windowsSchannel.check(s);
  } finally {
    await s.close();
  }
}

const agentRegQueries = (d: Double) => d.events().filter((e) => e.type === "exec" && e.program === "reg" && Array.isArray(e.argv) && e.argv[1] === "query");

describe("non-English Windows: the Polish-locale double (reg.exe in Polish, code page 852) audits like the English one", () => {
  const doubles = new Map<string, Double>();
  const double = (profile: string) => doubles.get(profile)!;
  beforeAll(async () => {
    for (const p of ["legacy-2012r2", "legacy-2012r2-pl", "legacy-2012r2-pl-no-netfx2", "legacy-2012r2-pl-no-wow64", "modern-2019", "modern-2019-pl-no-exchange"]) {
      doubles.set(p, await startDouble(p));
    }
  }, 180_000);
  afterAll(async () => {
    for (const d of doubles.values()) await d.stop();
  });
  const overWinRm = (p: string) => () => openWinRmSession(winrm(double(p), { transport: "http" }));
  const overSsh = (p: string) => () => ssh(double(p));

  it("reg.exe answers a missing key in Polish: exit 1, empty stdout; UTF-8 over WinRM (65001 requested), code page 852 over SSH", async () => {
    const pl = double("legacy-2012r2-pl");
    const w = await overWinRm("legacy-2012r2-pl")();
    try {
      expect(await w.exec(["reg", "query", "HKLM\\SOFTWARE\\Brak"])).toMatchObject({
        exitCode: 1,
        stdout: "",
        stderr: "BŁĄD: System nie może odnaleźć określonego klucza rejestru lub wartości.\r\n",
      });
    } finally {
      await w.close();
    }
    const s = await ssh(pl);
    try {
      const r = await s.exec(["reg", "query", "HKLM\\SOFTWARE\\Brak"]);
      expect(r).toMatchObject({ exitCode: 1, stdout: "" });
      // CP852 bytes (Ł = 0x9D, Ą = 0xA4, ...) are not UTF-8: the transport's decoder replaces each.
      expect(r.stderr).toBe("B\uFFFD\uFFFDD: System nie mo\uFFFDe odnale\uFFFD\uFFFD okre\uFFFDlonego klucza rejestru lub warto\uFFFDci.\r\n");
    } finally {
      await s.close();
    }
  });

  it("the KB host in Polish: the same verdicts as in English, over WinRM and over SSH", async () => {
    const english = await checkOver(overWinRm("legacy-2012r2"));
    expect(english).toMatchObject({ tls12Enabled: false, legacyEnabled: true, rebootPending: false });
    expect(verdicts(await checkOver(overWinRm("legacy-2012r2-pl")))).toEqual(verdicts(english));
    expect(verdicts(await checkOver(overSsh("legacy-2012r2-pl")))).toEqual(verdicts(english));
    // Every query asked for the 64-bit registry view.
    const queries = agentRegQueries(double("legacy-2012r2-pl")).filter((e) => !String((e.argv as string[])[2]).endsWith("\\Brak"));
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.filter((e) => !(e.argv as string[]).includes("/reg:64"))).toEqual([]);
  });

  it("the fix applies on the Polish host over SSH (Polish success messages are not read)", async () => {
    const s = await ssh(double("legacy-2012r2-pl"));
    try {
      const before = await windowsSchannel.check(s);
      const applied = await windowsSchannel.apply(s, windowsSchannel.plan(before, "enable-tls12"));
      expect(applied.changes).toHaveLength(12);
      expect((applied.after as SchannelState).tls12Enabled).toBe(true);
    } finally {
      await s.close();
    }
  });

  it.each([
    ["legacy-2012r2-pl-no-netfx2", "legacy-2012r2"],
    ["legacy-2012r2-pl-no-wow64", "legacy-2012r2"],
  ])("%s (absent keys) audits cleanly, with the verdicts of %s", async (profile, english) => {
    const state = await checkOver(overWinRm(profile));
    expect(verdicts(state)).toEqual(verdicts(await checkOver(overWinRm(english))));
    expect(verdicts(await checkOver(overSsh(profile)))).toEqual(verdicts(state));
  });

  it("modern-2019-pl-no-exchange (no ExchangeServer key) audits cleanly: no Exchange, otherwise the verdicts of modern-2019", async () => {
    const state = await checkOver(overWinRm("modern-2019-pl-no-exchange"));
    expect(state.exchange).toBeNull();
    const english = await checkOver(overWinRm("modern-2019"));
    expect(english.exchange?.product).toBe("Exchange 2019");
    expect(verdicts(state)).toEqual({ ...verdicts(english), exchange: null });
  });
});

describe("Exchange 2010 SP3 RU18 (before RU19): SMTP offers TLS 1.0 only whatever the registry says", () => {
  let d: Double;
  doubleForBlock("exchange2010-sp3ru18", (started) => (d = started));
  const status = () =>
    JSON.parse(readFileSync(path.join(d.stateDir, "status.json"), "utf8")) as {
      tlsServerVersions: string[];
      smtpServerVersions: string[];
      tlsClientVersions: { os: string[]; exchangeSmtp: string[] | null };
    };
  const winrmHttpsAccepts = (version: tls.SecureVersion) =>
    new Promise<boolean>((resolve) => {
      const t = tls.connect({ host: "127.0.0.1", port: d.ready.ports.winrmHttps, minVersion: version, maxVersion: version, ciphers: "ALL:@SECLEVEL=0", rejectUnauthorized: false });
      t.once("secureConnect", () => {
        t.destroy();
        resolve(true);
      });
      t.once("error", () => resolve(false));
    });

  it("TLS 1.2 is on in SCHANNEL (WinRM over HTTP.sys negotiates it), the SMTP port stays at TLS 1.0, before and after a restart", async () => {
    expect(await wireVersions(d.ready.ports.smtp)).toEqual({ TLSv1: "accepted", "TLSv1.1": "rejected", "TLSv1.2": "rejected", "TLSv1.3": "rejected" });
    expect(await winrmHttpsAccepts("TLSv1.2")).toBe(true);
    expect(status()).toMatchObject({
      tlsServerVersions: ["TLS 1.0", "TLS 1.1", "TLS 1.2"],
      smtpServerVersions: ["TLS 1.0"],
      tlsClientVersions: { os: ["TLS 1.0", "TLS 1.1", "TLS 1.2"], exchangeSmtp: ["TLS 1.0"] },
    });

    const s = await openWinRmSession(winrm(d, { transport: "http" }));
    try {
      const state = await windowsSchannel.check(s);
      expect(state.exchange).toMatchObject({ product: "Exchange 2010", version: "14.3.352.0" });
      expect(windowsSchannel.prerequisites?.(state, "enable-tls12")).toMatch(/SP3 RU19/);
      const boots = d.bootCount();
      await windowsSchannel.reboot(s, { delaySeconds: 0, message: "tlsfleet: Exchange 2010 test" });
      await d.waitForBoot(boots + 1);
    } finally {
      await s.close();
    }
    expect(await wireVersions(d.ready.ports.smtp)).toEqual({ TLSv1: "accepted", "TLSv1.1": "rejected", "TLSv1.2": "rejected", "TLSv1.3": "rejected" });
  });
});
