// Which boot a host is in, as an opaque string that changes on every boot. A rollout that
// restarts a host judges "the host is back" by this value having changed, not by a port
// answering: a port may answer before the restart happened (the countdown of `shutdown /r /t N`)
// or from a service that was never stopped.
//
// - Linux: /proc/sys/kernel/random/boot_id, a random UUID the kernel generates once per boot
//   (proc(5), random(4)).
// - Windows: Win32_OperatingSystem.LastBootUpTime (Microsoft Learn "Win32_OperatingSystem
//   class"), converted to UTC and printed with the round-trip format "o" (Microsoft Learn
//   "Standard date and time format strings": yyyy-MM-ddTHH:mm:ss.fffffffK, K = "Z" for a UTC
//   DateTime), so the value does not depend on the host's time zone or culture. Client Windows
//   with Fast Startup keeps LastBootUpTime across a shutdown, but not across a restart
//   (`shutdown /r`), which is what our playbooks do; Server SKUs have no Fast Startup.
//
// A transport failure (host unreachable while it restarts, timeout) is thrown as the transport's
// own TransportError, unchanged: a caller polling for the new boot tells "not back yet" from
// "answered something we cannot use" (PlaybookError) by the error's type.

import { z } from "zod";
import type { RemoteSession } from "../transport/types";
import { PlaybookError } from "./types";

export const LINUX_BOOT_ID_ARGV = ["cat", "/proc/sys/kernel/random/boot_id"] as const;

// Every element passes quoteWindowsCmd: no "!", CR, LF or fullwidth characters; the ( ) ' and
// spaces are carried inside CRT double quotes whose cmd.exe metacharacters are ^-escaped.
// powershell.exe joins everything after -Command into one script.
export const WINDOWS_LAST_BOOT_SCRIPT = "(Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')";
export const WINDOWS_LAST_BOOT_ARGV = ["powershell.exe", "-NoProfile", "-NonInteractive", "-Command", WINDOWS_LAST_BOOT_SCRIPT] as const;

/** PowerShell's startup (profile skipped) plus one CIM query: seconds, even on a busy host. */
const BOOT_IDENTITY_TIMEOUT_MS = 30_000;
/** Both answers are one short line; anything long is not what we asked for. */
const BOOT_IDENTITY_MAX_OUTPUT_BYTES = 64 * 1024;
const SHOWN_CHARS = 200;

const LinuxBootId = z.uuid();
// .NET "o" for a UTC DateTime: exactly seven fractional digits and a literal Z.
const WindowsRoundTripUtc = z.iso.datetime({ precision: 7 });

/** Returns `linux-boot:<uuid>` or `windows-boot:<yyyy-MM-ddTHH:mm:ss.fffffffZ>`; two reads in
 *  the same boot return the same string, and a restart changes it. */
export async function readBootIdentity(s: RemoteSession): Promise<string> {
  const linux = s.remoteOs === "linux";
  const argv = linux ? LINUX_BOOT_ID_ARGV : WINDOWS_LAST_BOOT_ARGV;
  const what = linux ? "the kernel boot id (/proc/sys/kernel/random/boot_id)" : "the last boot time (Win32_OperatingSystem.LastBootUpTime)";
  const r = await s.exec(argv, { timeoutMs: BOOT_IDENTITY_TIMEOUT_MS, maxOutputBytes: BOOT_IDENTITY_MAX_OUTPUT_BYTES });
  if (r.exitCode !== 0) {
    throw new PlaybookError(
      s.hostLabel,
      `Could not read ${what} on ${s.hostLabel}: \`${argv[0]}\` exited with code ${r.exitCode ?? "none"}: ${shown(r.stderr.trim() || r.stdout.trim())}.`,
    );
  }
  // Windows console programs end lines with CRLF; cat ends boot_id with LF.
  const value = r.stdout.trim();
  const parsed = (linux ? LinuxBootId : WindowsRoundTripUtc).safeParse(value);
  if (!parsed.success) {
    const expected = linux ? "a UUID" : "a UTC time like 2026-12-07T05:40:00.1234567Z";
    throw new PlaybookError(s.hostLabel, `Could not read ${what} on ${s.hostLabel}: expected ${expected}, got ${shown(r.stdout)}.`);
  }
  return linux ? `linux-boot:${parsed.data.toLowerCase()}` : `windows-boot:${parsed.data}`;
}

/** What came back, short and with line breaks visible. */
function shown(text: string): string {
  if (text === "") return "no output";
  const cut = text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
  return JSON.stringify(cut);
}

/**
 * Windows derives LastBootUpTime from the clock minus the uptime, so two reads in one boot can
 * differ by a fraction of a second (more after a clock correction). A restart moves it forward by
 * at least the shutdown and start-up, so "a new boot" is a Windows boot time more than this later.
 */
export const WINDOWS_BOOT_TIME_JITTER_MS = 1_000;

/** True when `now` is a different boot than `before` (both from readBootIdentity). */
export function isNewBoot(before: string, now: string): boolean {
  const w = /^windows-boot:(.+)$/;
  const a = w.exec(before);
  const b = w.exec(now);
  if (a && b) return Date.parse(b[1]!) - Date.parse(a[1]!) > WINDOWS_BOOT_TIME_JITTER_MS;
  return before !== now;
}
