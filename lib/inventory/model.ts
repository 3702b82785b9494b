// Inventory input shapes and defaults: pure, shared by forms, the CSV importer and the API.
import { z } from "zod";
import { SERVICES, type Service } from "../tls/types";

export const HOST_ROLES = ["exchange", "postfix", "nginx", "dovecot", "iis", "other"] as const;
export type HostRole = (typeof HOST_ROLES)[number];
export const PLATFORMS = ["windows", "linux", "other"] as const;
export const TRANSPORTS = ["ssh", "winrm", "none"] as const;

/** What every view of a host shows it by: the host list and its grid, the host page. */
export interface HostSummary {
  id: string;
  name: string;
  address: string;
  platform: string;
  roles: string[];
  tags: string[];
  group: string | null;
  owner: string | null;
}

/** Whether a worker may trust what the host's transport presents: its pinned key and the admin's decisions (lib/hosts/host-keys.ts setHostTrust). */
export interface HostTrust {
  pinnedKey: string | null;
  /** Presented at a first contact or after a key change, waiting for an admin. */
  pinnedKeyPending: string | null;
  pinnedAt: Date | null;
  trustOnFirstUse: boolean;
  allowWinrmHttp: boolean;
  legacyTls: boolean;
}

export interface EndpointSpec {
  port: number;
  service: Service;
  tlsStart: "starttls" | "implicit";
}

const STARTTLS_SERVICES: ReadonlySet<Service> = new Set(["smtp", "submission", "imap", "pop3"]);

export function endpointSpec(port: number, service: Service): EndpointSpec {
  return { port, service, tlsStart: STARTTLS_SERVICES.has(service) ? "starttls" : "implicit" };
}

// Mail servers talk to Microsoft 365 on 25 and take client submission on 587; web servers
// serve 443; Dovecot serves IMAP/POP3 both with STARTTLS and implicit TLS.
const ROLE_ENDPOINTS: Record<HostRole, Array<[number, Service]>> = {
  exchange: [[25, "smtp"], [587, "submission"]],
  postfix: [[25, "smtp"], [587, "submission"]],
  nginx: [[443, "https"]],
  iis: [[443, "https"]],
  dovecot: [[143, "imap"], [993, "imaps"], [110, "pop3"], [995, "pop3s"]],
  other: [],
};

export function defaultEndpoints(roles: readonly string[]): EndpointSpec[] {
  const byPort = new Map<number, EndpointSpec>();
  for (const role of roles) {
    for (const [port, service] of ROLE_ENDPOINTS[role as HostRole] ?? []) if (!byPort.has(port)) byPort.set(port, endpointSpec(port, service));
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9-_.]{0,251}[A-Za-z0-9])?$/;
// A hostname, IPv4 or IPv6 literal; nothing that could smuggle an option or a shell word.
const ADDRESS = /^([A-Za-z0-9]([A-Za-z0-9-.]{0,251}[A-Za-z0-9])?|\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:.]{2,45})$/;

const list = (label: string, allowed?: readonly string[]) =>
  z
    .union([z.array(z.string()), z.string(), z.null()])
    .transform((v) => (v === null ? [] : Array.isArray(v) ? v : v.split(/[;|,]/)).map((s) => s.trim().toLowerCase()).filter(Boolean))
    .pipe(
      z
        .array(
          allowed
            ? z.enum(allowed as [string, ...string[]], { message: `${label} must be one of ${allowed.join(", ")}` })
            : z.string().max(64).regex(/^[a-z0-9][a-z0-9_.:/-]*$/, `${label}: letters, digits and - _ . : / only`),
        )
        .max(32)
        .transform((a) => [...new Set(a)]),
    );

// API clients send null for "no value"; forms and CSV send "". Both mean "not set".
// One line of text: a line break or tab in an owner would break every list, log line and export.
const optionalText = (max: number) =>
  z
    .preprocess((v) => (v === null ? undefined : v), z.string().trim().max(max).regex(/^[^\p{Cc}]*$/u, "Must be one line of text without tabs or control characters").optional())
    .transform((v) => (v ? v : null));

// "Linux" in a spreadsheet means linux; the message names the choices instead of zod's default.
const choice = <T extends readonly [string, ...string[]]>(label: string, values: T, fallback: T[number]) =>
  z.preprocess(
    (v) => (v === null || v === undefined || v === "" ? undefined : typeof v === "string" ? v.trim().toLowerCase() : v),
    z.enum(values, { message: `${label} must be one of ${values.join(", ")}` }).default(fallback as never),
  );

export const EndpointInput = z.object({
  port: z.coerce.number().int().min(1, "Port must be 1-65535").max(65535, "Port must be 1-65535"),
  service: z.enum(SERVICES),
});

/** "25/smtp;587/submission" -> endpoints. */
export const EndpointList = z
  .string()
  .transform((s, ctx) => {
    const out: EndpointSpec[] = [];
    for (const part of s.split(/[;|,\s]+/).filter(Boolean)) {
      const m = /^(\d{1,5})(?:\/([a-z0-9]+))?$/i.exec(part);
      const service = m?.[2]?.toLowerCase();
      if (!m || (service && !(SERVICES as readonly string[]).includes(service))) {
        ctx.addIssue({ code: "custom", message: `"${part}" is not PORT/SERVICE (services: ${SERVICES.join(", ")})` });
        return z.NEVER;
      }
      const port = Number(m[1]);
      if (port < 1 || port > 65535) {
        ctx.addIssue({ code: "custom", message: `port ${port} out of range` });
        return z.NEVER;
      }
      const spec = endpointSpec(port, (service as Service | undefined) ?? serviceForPort(port));
      const twin = out.find((e) => e.port === port);
      if (twin && twin.service !== spec.service) {
        ctx.addIssue({ code: "custom", message: `port ${port} is listed twice (${twin.service} and ${spec.service})` });
        return z.NEVER;
      }
      if (!twin) out.push(spec);
    }
    return out;
  });

export function serviceForPort(port: number): Service {
  const known: Record<number, Service> = { 25: "smtp", 587: "submission", 465: "smtps", 443: "https", 143: "imap", 993: "imaps", 110: "pop3", 995: "pop3s", 636: "ldaps" };
  return known[port] ?? "tls";
}

export const HostInput = z.object({
  name: z.string().trim().min(1, "Name is required").max(253).regex(HOST_NAME, "Name: letters, digits, dots, dashes and underscores"),
  address: z.string().trim().min(1, "Address is required").max(253).regex(ADDRESS, "Address must be a host name or an IP address"),
  platform: choice("Platform", PLATFORMS, "other"),
  roles: list("Role", HOST_ROLES).default([]),
  tags: list("Tag").default([]),
  group: optionalText(100),
  owner: optionalText(200),
  transport: choice("Transport", TRANSPORTS, "none"),
  port: z.preprocess(
    (v) => (v === null || v === undefined || (typeof v === "string" && v.trim() === "") ? undefined : v),
    z.coerce.number({ message: "Port must be a number" }).int("Port must be a whole number").min(1, "Port must be 1-65535").max(65535, "Port must be 1-65535").optional(),
  ).transform((v) => v ?? null),
  credentialName: optionalText(100),
  // Accepts "25/smtp;587/submission" (forms, CSV) or [{port, service}] (API), one parser for both.
  endpoints: z.preprocess(
    (v) => (Array.isArray(v) ? v.map((e) => (typeof e === "object" && e ? `${(e as { port?: unknown }).port}/${(e as { service?: unknown }).service ?? ""}`.replace(/\/$/, "") : String(e))).join(";") : v === "" || v === null ? undefined : v),
    EndpointList.optional(),
  ).meta({
    // What a client may send, for the API document (lib/http/openapi.ts): the preprocess above.
    accepts: {
      anyOf: [
        { type: "string", description: "port/service pairs separated by ';', e.g. 25/smtp;587/submission" },
        { type: "array", items: { type: "object", required: ["port"], properties: { port: { type: "integer", minimum: 1, maximum: 65535 }, service: { type: "string", enum: [...SERVICES] } } } },
        { type: "null" },
      ],
    },
  }),
});
export type HostInputValue = z.output<typeof HostInput>;

/** The endpoints a host should have: explicit ones win, otherwise the role defaults. */
export function endpointsFor(input: Pick<HostInputValue, "roles" | "endpoints">): EndpointSpec[] {
  return input.endpoints && input.endpoints.length ? input.endpoints : defaultEndpoints(input.roles);
}
