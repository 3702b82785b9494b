import { SERVICES, type Service } from "./types";

/** How TLS starts on a service: a plaintext dialog first (STARTTLS/STLS) or straight away. */
export type StartTlsDialog = "smtp" | "imap" | "pop3";

// IANA well-known ports. 5986 (WinRM over HTTPS) is implicit TLS too but has no service name of
// its own in the CLI contract, so it falls back to "tls" like any other unknown port.
const SERVICE_BY_PORT: ReadonlyMap<number, Service> = new Map<number, Service>([
  [25, "smtp"],
  [587, "submission"],
  [465, "smtps"],
  [443, "https"],
  [143, "imap"],
  [993, "imaps"],
  [110, "pop3"],
  [995, "pop3s"],
  [636, "ldaps"],
]);

const DEFAULT_PORT_BY_SERVICE: Readonly<Record<Service, number | null>> = {
  smtp: 25,
  submission: 587,
  smtps: 465,
  https: 443,
  imap: 143,
  imaps: 993,
  pop3: 110,
  pop3s: 995,
  ldaps: 636,
  tls: null,
};

const DIALOG_BY_SERVICE: Readonly<Record<Service, StartTlsDialog | null>> = {
  smtp: "smtp",
  submission: "smtp",
  imap: "imap",
  pop3: "pop3",
  smtps: null,
  https: null,
  imaps: null,
  pop3s: null,
  ldaps: null,
  tls: null,
};

export function isService(value: string): value is Service {
  return (SERVICES as readonly string[]).includes(value);
}

/** The service an operator means by a bare port: unknown ports are plain implicit TLS. */
export function serviceForPort(port: number): Service {
  return SERVICE_BY_PORT.get(port) ?? "tls";
}

/** The port a service listens on by convention, or null for "tls" (no convention). */
export function defaultPortForService(service: Service): number | null {
  return DEFAULT_PORT_BY_SERVICE[service];
}

/** The plaintext dialog that precedes the handshake, or null for implicit TLS. */
export function startTlsDialogFor(service: Service): StartTlsDialog | null {
  return DIALOG_BY_SERVICE[service];
}
