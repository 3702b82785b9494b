// TEST DOUBLE: the simulated Windows machine: registry, OS build, boots and reboots, and the TLS
// versions its SCHANNEL server side accepts as of the last boot.
//
// SCHANNEL reads its Protocols keys when it starts, so registry changes reach the wire only after
// a restart (KB "Cannot send or receive email when using TLS 1.1 or TLS 1.0": "restart the
// server"). The double therefore computes the accepted versions once per boot.

import { EventEmitter } from "node:events";
import { appendFileSync, existsSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Registry } from "./registry";

export const TLS_VERSIONS = ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"] as const;
export type SchannelVersion = (typeof TLS_VERSIONS)[number];

const PROTOCOLS = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols";
const CURRENT_VERSION = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
export const REBOOT_PENDING = {
  cbs: "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending",
  windowsUpdate: "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired",
  sessionManager: "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager",
} as const;

const SHUTDOWN_SEQUENCE_MS = 1000;

export interface OsBuild {
  major: number;
  minor: number;
  build: number;
  ubr: number | null;
}

/** Which versions SCHANNEL supports at all, and which it enables when the registry says nothing.
 *  Microsoft Learn "Protocols in TLS/SSL (Schannel SSP)": Windows 7 / Server 2008 R2 support TLS
 *  1.1 and 1.2 but leave them off; 8 / 2012 through 2019 enable 1.0-1.2; TLS 1.3 exists from
 *  Server 2022 (build 20348) and is on by default there. */
export function schannelDefaults(os: OsBuild, v: SchannelVersion): { supported: boolean; enabledByDefault: boolean } {
  const b = os.build;
  switch (v) {
    case "TLS 1.0":
      return { supported: true, enabledByDefault: true };
    case "TLS 1.1":
    case "TLS 1.2":
      return { supported: b >= 7600, enabledByDefault: b >= 9200 };
    case "TLS 1.3":
      return { supported: b >= 20348, enabledByDefault: b >= 20348 };
  }
}

/** Server-side versions an application using the system defaults (Exchange, HTTP.sys) accepts:
 *  supported, Enabled (absent: the OS default) and not DisabledByDefault (absent: the inverse
 *  of the OS default). Only Enabled=0 is a hard block, but DisabledByDefault=1 keeps the
 *  version away from every application that does not ask for it by name, which these don't. */
export function acceptedServerVersions(registry: Registry, os: OsBuild): SchannelVersion[] {
  return TLS_VERSIONS.filter((v) => {
    const d = schannelDefaults(os, v);
    if (!d.supported) return false;
    const key = `${PROTOCOLS}\\${v}\\Server`;
    const en = registry.getValue(key, "Enabled");
    const dbd = registry.getValue(key, "DisabledByDefault");
    const enabled = en ? en.type === "REG_DWORD" && en.data !== 0 : d.enabledByDefault;
    const disabledByDefault = dbd ? dbd.type === "REG_DWORD" && dbd.data !== 0 : !d.enabledByDefault;
    return enabled && !disabledByDefault;
  });
}

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
  /** Fixed at boot: what the SMTP and WinRM HTTPS listeners negotiate until the next boot. */
  tlsServerVersions: SchannelVersion[] = [];
  private rebootTimer: NodeJS.Timeout | null = null;
  rebootScheduledFor: Date | null = null;

  constructor(opts: MachineOptions) {
    super();
    this.stateDir = opts.stateDir;
    this.registry = opts.registry;
    this.hostname = opts.hostname;
    this.rebootDowntimeMs = opts.rebootDowntimeMs;
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
    this.tlsServerVersions = acceptedServerVersions(this.registry, this.os);
    this.up = true;
    this.log({ type: "boot", bootCount: this.bootCount, tlsServerVersions: this.tlsServerVersions, os: this.os });
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
