// Reading stored evidence back for display. ProbeResult and ConfigSnapshot keep JSON written by the
// scan and audit workers; these parsers accept every shape those writers have used (an outcome
// string, or {outcome, reason}) and never throw, so one odd row cannot break a host page.
import { z } from "zod";
import { TLS_VERSION_LABEL, TLS_VERSIONS, type Outcome, type TlsVersion } from "../tls/types";

// Re-exported for app/, which may not import lib/tls (the lint rule keeps TLS code out of routes).
export { TLS_VERSION_LABEL, TLS_VERSIONS, type TlsVersion };

export interface ProtocolCell {
  outcome: Outcome;
  reason: string | null;
  cipher: string | null;
}

export type ProtocolMatrix = Record<TlsVersion, ProtocolCell>;

export interface CertificateView {
  subject: string | null;
  issuer: string | null;
  notAfter: Date | null;
  san: string[];
}

const OUTCOMES: ReadonlySet<string> = new Set(["accepted", "rejected", "unknown"]);

const asRecord = (v: unknown): Record<string, unknown> | null => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

/** A stored cell: an outcome string, or {outcome, reason}; null when it is neither. */
function readCell(v: unknown): { outcome: Outcome; reason: string | null } | null {
  if (typeof v === "string") return OUTCOMES.has(v) ? { outcome: v as Outcome, reason: null } : null;
  const o = asRecord(v);
  if (!o || typeof o.outcome !== "string" || !OUTCOMES.has(o.outcome)) return null;
  if (o.reason !== undefined && o.reason !== null && typeof o.reason !== "string") return null;
  return { outcome: o.outcome as Outcome, reason: (o.reason as string | null | undefined) ?? null };
}

// Plain checks rather than a zod schema: the compliance export reads 400,000 cells per 50,000
// hosts through here, and per-cell schema parsing cost it seconds (BENCHMARKS.md).
export function parseProtocols(protocols: unknown, ciphers: unknown, reasons?: unknown): ProtocolMatrix {
  const p = asRecord(protocols);
  const c = asRecord(ciphers);
  const r = asRecord(reasons);
  const out = {} as ProtocolMatrix;
  for (const v of TLS_VERSIONS) {
    const cell = p ? readCell(p[v]) : null;
    const cipher = c && typeof c[v] === "string" ? (c[v] as string) : null;
    const separateReason = r && typeof r[v] === "string" ? (r[v] as string) : null;
    out[v] = cell ? { outcome: cell.outcome, reason: cell.reason ?? separateReason, cipher } : { outcome: "unknown", reason: p && v in p ? "unreadable evidence" : "not probed", cipher };
  }
  return out;
}

export function parseCertificate(certificate: unknown): CertificateView | null {
  const parsed = z
    .object({
      subject: z.string().nullish(),
      issuer: z.string().nullish(),
      notAfter: z.union([z.string(), z.number()]).nullish(),
      san: z.array(z.string()).nullish(),
    })
    .safeParse(certificate);
  if (!parsed.success) return null;
  const notAfter = parsed.data.notAfter != null ? new Date(parsed.data.notAfter) : null;
  return {
    subject: parsed.data.subject ?? null,
    issuer: parsed.data.issuer ?? null,
    notAfter: notAfter && !Number.isNaN(notAfter.getTime()) ? notAfter : null,
    san: parsed.data.san ?? [],
  };
}

export type ExpiryState = { kind: "expired"; days: number } | { kind: "soon"; days: number } | { kind: "ok"; days: number };

// Public CAs issue 90-day certificates and renew at 30 days left; warn inside that window.
export const EXPIRY_WARNING_DAYS = 30;

export function expiryState(notAfter: Date, now: Date): ExpiryState {
  const days = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
  if (notAfter.getTime() <= now.getTime()) return { kind: "expired", days: -days };
  if (days < EXPIRY_WARNING_DAYS) return { kind: "soon", days };
  return { kind: "ok", days };
}

export type ConfigValue = string | number | boolean | null;

// Bookkeeping fields every playbook state carries; the page shows them elsewhere or not at all.
// `sides` is shown as the host page's two directions.
const HIDDEN_KEYS: ReadonlySet<string> = new Set(["playbookId", "collectedAt", "rebootPending", "summary", "sides"]);

interface SettingLike {
  setting: string;
  value: string | null;
  scope?: string | null;
  source?: string;
}

function isSetting(v: unknown): v is SettingLike {
  return typeof v === "object" && v !== null && typeof (v as SettingLike).setting === "string" && ((v as SettingLike).value === null || typeof (v as SettingLike).value === "string");
}

/**
 * A config snapshot's parsed state as flat "key: value" pairs, in the order the playbook wrote
 * them, at most `max`: nested objects become dotted keys ("protocols.TLS 1.2.Server.Enabled: 1"),
 * and the Linux playbooks' settings lists ({scope, setting, value, source}) become
 * "main.cf: smtpd_tls_protocols: >=TLSv1.2".
 */
export function flattenState(state: unknown, max = 200): Array<[string, ConfigValue]> {
  const out: Array<[string, ConfigValue]> = [];
  const walk = (value: unknown, prefix: string) => {
    if (out.length >= max) return;
    if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      out.push([prefix || "value", value]);
    } else if (Array.isArray(value)) {
      if (value.length > 0 && value.every(isSetting)) {
        for (const st of value) {
          const shown = st.value === null ? "(not set: the software default applies)" : `${st.value}${st.source === "inherited" ? " (inherited)" : ""}`;
          if (out.length < max) out.push([st.scope ? `${st.scope}: ${st.setting}` : st.setting, shown]);
        }
      } else if (value.every((v) => v === null || ["string", "number", "boolean"].includes(typeof v))) out.push([prefix || "value", value.join(", ")]);
      else value.forEach((v, i) => walk(v, `${prefix}[${i}]`));
    } else if (typeof value === "object") {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (!prefix && HIDDEN_KEYS.has(k)) continue;
        walk(v, prefix ? `${prefix}.${k}` : k);
      }
    }
  };
  walk(state, "");
  return out;
}
