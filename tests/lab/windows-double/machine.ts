// TEST DOUBLE: the simulated Windows machine: registry, OS build, display language, boots and
// reboots, and the TLS versions its listeners accept and its outbound connections offer as of the
// last boot (schannel.ts, exchange.ts).
//
// SCHANNEL reads its Protocols keys when it starts, so registry changes reach the wire only after
// a restart (KB "Cannot send or receive email when using TLS 1.1 or TLS 1.0": "restart the
// server"). The double therefore computes the accepted versions once per boot.

import { EventEmitter } from "node:events";
import { appendFileSync, existsSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { smtpClientVersions, smtpServerVersions } from "./exchange";
import { LOCALES, type WindowsLocale } from "./locale";
import type { Registry } from "./registry";
import { dotNetClientVersions, systemDefaultVersions, type OsBuild, type SchannelVersion } from "./schannel";

export type { OsBuild, SchannelVersion } from "./schannel";

const CURRENT_VERSION = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
export const REBOOT_PENDING = {
  cbs: "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending",
  windowsUpdate: "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired",
  sessionManager: "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager",
} as const;

const SHUTDOWN_SEQUENCE_MS = 1000;

export function readOsBuild(registry: Registry): OsBuild {
  const str = (name: string) => {
    const v = registry.getValue(CURRENT_VERSION, name);
    return v && (v.type === "REG_SZ" || v.type === "REG_EXPAND_SZ") ? v.data : undefined;
  };
  const dword = (name: string) => {
    const v = registry.getValue(CURRENT_VERSION, name);
    return v && v.type === "REG_DWORD" ? v.data : undefined;
  };
  const [maj, min] = (str("CurrentVersion") ?? "6.3").split(".").map(Number);
  const major = dword("CurrentMajorVersionNumber") ?? maj ?? 6;
  const minor = dword("CurrentMinorVersionNumber") ?? min ?? 3;
  const build = Number(str("CurrentBuildNumber") ?? str("CurrentBuild") ?? "9600");
  return { major, minor, build, ubr: dword("UBR") ?? null };
}

export interface MachineEvent {
  type: string;
  [k: string]: unknown;
}

export interface MachineOptions {
  stateDir: string;
  registry: Registry;
  hostname: string;
  rebootDowntimeMs: number;
  locale?: WindowsLocale;
}

/** What outbound TLS connections made on this machine offer (status.json `tlsClientVersions`),
 *  fixed at boot like the server side. `os`: a program that leaves the versions to SCHANNEL
 *  (SCHANNEL `...\\Client` keys). `dotnet`: .NET Framework applications per runtime and process
 *  bitness (SystemDefaultTlsVersions / SchUseStrongCrypto). `exchangeSmtp`: Exchange's own
 *  outbound SMTP (null without Exchange). */
export interface ClientVersions {
  os: SchannelVersion[];
  dotnet: Record<"v4.0.30319" | "v2.0.50727", Record<"64-bit" | "32-bit", SchannelVersion[]>>;
  exchangeSmtp: SchannelVersion[] | null;
}

/** Outbound versions from the registry as it is now (the machine uses the copy taken at boot). */
export function clientVersions(registry: Registry, os: OsBuild): ClientVersions {
  const runtime = (r: "v4.0.30319" | "v2.0.50727") => ({
    "64-bit": dotNetClientVersions(registry, os, r, "64-bit"),
    "32-bit": dotNetClientVersions(registry, os, r, "32-bit"),
  });
  return {
    os: systemDefaultVersions(registry, os, "Client"),
    dotnet: { "v4.0.30319": runtime("v4.0.30319"), "v2.0.50727": runtime("v2.0.50727") },
    exchangeSmtp: smtpClientVersions(registry, os),
  };
}

/** Emits "down" (all listeners must close and drop connections) and "up" (listen again). */
export class WindowsMachine extends EventEmitter {
  readonly stateDir: string;
  readonly registry: Registry;
  readonly hostname: string;
  readonly env: Map<string, string>;
  private readonly rebootDowntimeMs: number;
  up = false;
  bootCount = 0;
  bootedAt: Date | null = null;
  readonly locale: WindowsLocale;
  /** Fixed at boot: what SCHANNEL's server side gives applications using the system defaults
   *  (the WinRM HTTPS listener, through HTTP.sys) until the next boot. */
  tlsServerVersions: SchannelVersion[] = [];
  /** Fixed at boot: what the SMTP receive connector negotiates (Exchange's own rules on top). */
  smtpServerVersions: SchannelVersion[] = [];
  /** Fixed at boot: what outbound connections offer. */
  tlsClientVersions: ClientVersions = { os: [], dotnet: { "v4.0.30319": { "64-bit": [], "32-bit": [] }, "v2.0.50727": { "64-bit": [], "32-bit": [] } }, exchangeSmtp: null };
  private rebootTimer: NodeJS.Timeout | null = null;
  rebootScheduledFor: Date | null = null;

  constructor(opts: MachineOptions) {
    super();
    this.stateDir = opts.stateDir;
    this.registry = opts.registry;
    this.hostname = opts.hostname;
    this.rebootDowntimeMs = opts.rebootDowntimeMs;
    this.locale = opts.locale ?? LOCALES["en-US"];
    this.env = new Map([
      ["ComSpec", "C:\\Windows\\system32\\cmd.exe"],
      ["COMPUTERNAME", opts.hostname.toUpperCase()],
      ["OS", "Windows_NT"],
      ["PATH", "C:\\Windows\\system32;C:\\Windows;C:\\Windows\\System32\\Wbem;C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\"],
      ["PATHEXT", ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC"],
      ["SystemDrive", "C:"],
      ["SystemRoot", "C:\\Windows"],
      ["USERNAME", "Administrator"],
      ["USERDOMAIN", opts.hostname.toUpperCase()],
      ["windir", "C:\\Windows"],
    ]);
  }

  get os(): OsBuild {
    return readOsBuild(this.registry);
  }

  get registryFile(): string {
    return path.join(this.stateDir, "registry.json");
  }

  log(event: MachineEvent): void {
    appendFileSync(path.join(this.stateDir, "events.jsonl"), `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }

  persistRegistry(): void {
    this.registry.save(this.registryFile);
  }

  private writeStatus(): void {
    // Written aside and renamed, so a reader never sees half a file.
    const file = path.join(this.stateDir, "status.json");
    writeFileSync(
      `${file}.tmp`,
      JSON.stringify(
        {
          up: this.up,
          bootCount: this.bootCount,
          bootedAt: this.bootedAt?.toISOString() ?? null,
          tlsServerVersions: this.tlsServerVersions,
          smtpServerVersions: this.smtpServerVersions,
          tlsClientVersions: this.tlsClientVersions,
          locale: this.locale.name,
          rebootScheduledFor: this.rebootScheduledFor?.toISOString() ?? null,
        },
        null,
        2,
      ),
    );
    renameSync(`${file}.tmp`, file);
  }

  boot(): void {
    this.bootCount++;
    this.bootedAt = new Date();
    const os = this.os;
    this.tlsServerVersions = systemDefaultVersions(this.registry, os, "Server");
    this.smtpServerVersions = smtpServerVersions(this.registry, os);
    this.tlsClientVersions = clientVersions(this.registry, os);
    this.up = true;
    this.log({
      type: "boot",
      bootCount: this.bootCount,
      tlsServerVersions: this.tlsServerVersions,
      smtpServerVersions: this.smtpServerVersions,
      tlsClientVersions: this.tlsClientVersions,
      os,
    });
    this.writeStatus();
    this.emit("up");
  }

  /** shutdown /r /t N: false when a shutdown is already scheduled (Windows error 1190). */
  scheduleReboot(delaySeconds: number, message: string | null): boolean {
    if (this.rebootTimer) return false;
    this.rebootScheduledFor = new Date(Date.now() + delaySeconds * 1000);
    this.log({ type: "reboot-scheduled", delaySeconds, message });
    this.writeStatus();
    // After the countdown Windows still stops its services before the network goes away, so the
    // answer to `shutdown /r /t 0` itself gets back to the caller.
    this.rebootTimer = setTimeout(() => void this.reboot(), delaySeconds * 1000 + SHUTDOWN_SEQUENCE_MS);
    return true;
  }

  /** shutdown /a: false when nothing was scheduled (Windows error 1116). */
  abortReboot(): boolean {
    if (!this.rebootTimer) return false;
    clearTimeout(this.rebootTimer);
    this.rebootTimer = null;
    this.rebootScheduledFor = null;
    this.log({ type: "reboot-aborted" });
    this.writeStatus();
    return true;
  }

  async reboot(): Promise<void> {
    this.rebootTimer = null;
    this.rebootScheduledFor = null;
    this.up = false;
    this.log({ type: "down" });
    this.writeStatus();
    this.emit("down");
    await new Promise((r) => setTimeout(r, this.rebootDowntimeMs));
    // Servicing finishes during the restart: the pending indicators disappear.
    this.registry.deleteKey(REBOOT_PENDING.cbs);
    this.registry.deleteKey(REBOOT_PENDING.windowsUpdate);
    this.registry.deleteValue(REBOOT_PENDING.sessionManager, "PendingFileRenameOperations");
    this.persistRegistry();
    this.boot();
  }

  shutdownTimers(): void {
    if (this.rebootTimer) clearTimeout(this.rebootTimer);
    this.rebootTimer = null;
  }

  static registryExists(stateDir: string): boolean {
    return existsSync(path.join(stateDir, "registry.json"));
  }
}
