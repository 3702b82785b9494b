// Draws an evidence pack as PDF with pdfkit (pure JS; the standard Helvetica fonts are built in,
// so nothing is downloaded and no browser is needed). Pure: takes the gathered PackData
// (pack-run.ts) and returns the bytes; the order is the auditor's: the answer first, then the
// trend, the PCI DSS mapping, exceptions, the protocol/cipher inventory, per-host evidence.
import PDFDocument from "pdfkit";
import type { EvidenceRow } from "./rows";
import { formatUtc } from "../time";

export interface PackTrendPoint {
  /** UTC day, "2026-11-30": counted at the end of it. */
  day: string;
  legacy: number;
  hosts: number;
}

export interface PackChange {
  rollout: string;
  rolloutState: string;
  requestedBy: string;
  approvedBy: string | null;
  approvedAt: Date | null;
  hostState: string;
  before: string[];
  after: string[];
}

export interface PackHost {
  name: string;
  address: string;
  status: string;
  explanation: string;
  configThen: string | null;
  configNow: string | null;
  /** Evidence rows (rows.ts) of this host now: four per endpoint. */
  rows: EvidenceRow[];
  changes: PackChange[];
}

export interface PackException {
  host: string;
  scope: string;
  justification: string;
  expiresAt: Date;
  requestedBy: string;
  approvedBy: string | null;
  approvedAt: Date | null;
  state: "active" | "expired" | "awaiting approval";
}

export interface PackInventoryRow {
  host: string;
  endpoint: string;
  accepted: string;
  ciphers: string;
  probedAt: string;
}

export interface PackData {
  id: string;
  title: string;
  generatedAt: Date;
  periodStart: Date;
  requestedBy: string;
  summary: { hosts: number; hostsThen: number; legacyNow: number; legacyThen: number; byStatus: Record<string, number> };
  trend: PackTrendPoint[];
  rollout: { id: string; goals: string[]; state: string; requestedBy: string; approvedBy: string | null; approvedAt: Date | null; planHash: string | null } | null;
  exceptions: PackException[];
  inventory: PackInventoryRow[];
  hosts: PackHost[];
  chain: { kind: "checkpoint" | "head"; label: string; id: string; hash: string; at: Date } | null;
}

const MARGIN = 50;
const PAGE = { width: 595.28, height: 841.89 };
const CONTENT_WIDTH = PAGE.width - 2 * MARGIN;
const BOTTOM = PAGE.height - MARGIN - 20;
const INK = "#0f172a";
const MUTED = "#475569";
const RULE = "#cbd5e1";
const BAD = "#b91c1c";
const GOOD = "#15803d";


// The standard fonts encode WinAnsi only: anything else would print as garbage, so the few
// non-Latin-1 signs our texts use are spelled out and the rest replaced.
const SPELLED: Record<string, string> = { "≥": ">=", "≤": "<=", "→": "->", "←": "<-", "✓": "ok", "✗": "x", "≠": "!=" };
const WIN_ANSI_EXTRA = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ";
export function pdfText(s: string): string {
  let out = "";
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (code === 9 || code === 10 || (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.includes(ch)) out += ch;
    else out += SPELLED[ch] ?? "?";
  }
  return out;
}

/** PCI DSS v4.0 requirements and the sections of the pack that answer them. */
export const PCI_MAPPING: Array<{ requirement: string; asks: string; section: string }> = [
  {
    requirement: "4.2.1",
    asks: "Strong cryptography and security protocols protect cardholder data in transit over open, public networks.",
    section: "Summary, Trend, Per-host evidence (handshake result per TLS version with probe time; config before/after; who requested and approved each change)",
  },
  {
    requirement: "2.2.5",
    asks: "Where insecure services, protocols or daemons are present, the business justification is documented and additional security features are in place.",
    section: "Exceptions (justification, scope, expiry, requester and approver)",
  },
  {
    requirement: "12.3.3",
    asks: "Cryptographic cipher suites and protocols in use are documented and reviewed at least once every 12 months.",
    section: "Protocol and cipher inventory per endpoint",
  },
];

interface Column {
  header: string;
  width: number;
}

class Writer {
  readonly doc: PDFKit.PDFDocument;
  constructor(doc: PDFKit.PDFDocument) {
    this.doc = doc;
  }

  get y() {
    return this.doc.y;
  }

  ensure(height: number) {
    if (this.doc.y + height > BOTTOM) this.doc.addPage();
  }

  heading(text: string, requirement?: string) {
    this.ensure(60);
    const d = this.doc;
    d.moveDown(0.6);
    d.font("Helvetica-Bold").fontSize(15).fillColor(INK).text(pdfText(text), MARGIN, d.y, { width: CONTENT_WIDTH });
    if (requirement) d.font("Helvetica").fontSize(9).fillColor(MUTED).text(pdfText(requirement), { width: CONTENT_WIDTH });
    const y = d.y + 3;
    d.moveTo(MARGIN, y).lineTo(MARGIN + CONTENT_WIDTH, y).lineWidth(0.8).strokeColor(RULE).stroke();
    d.y = y + 6;
  }

  para(text: string, opts: { size?: number; bold?: boolean; color?: string } = {}) {
    const d = this.doc;
    d.font(opts.bold ? "Helvetica-Bold" : "Helvetica").fontSize(opts.size ?? 9.5).fillColor(opts.color ?? INK);
    const t = pdfText(text);
    this.ensure(d.heightOfString(t, { width: CONTENT_WIDTH }) + 2);
    d.text(t, MARGIN, d.y, { width: CONTENT_WIDTH });
  }

  /** A table that breaks across pages and repeats its header. */
  table(columns: Column[], rows: string[][], opts: { size?: number; color?: (row: string[], col: number) => string | null } = {}) {
    const d = this.doc;
    const size = opts.size ?? 8;
    const pad = 2.5;
    const header = () => {
      d.font("Helvetica-Bold").fontSize(size);
      const h = Math.max(...columns.map((c) => d.heightOfString(pdfText(c.header), { width: c.width - 2 * pad }))) + 2 * pad;
      this.ensure(h + 14);
      const y = d.y;
      d.rect(MARGIN, y, CONTENT_WIDTH, h).fillColor("#e2e8f0").fill();
      let x = MARGIN;
      d.fillColor(INK);
      for (const c of columns) {
        d.text(pdfText(c.header), x + pad, y + pad, { width: c.width - 2 * pad });
        x += c.width;
      }
      d.y = y + h;
    };
    header();
    for (const row of rows) {
      d.font("Helvetica").fontSize(size);
      const cells = row.map(pdfText);
      const h = Math.max(...columns.map((c, i) => d.heightOfString(cells[i] || " ", { width: c.width - 2 * pad }))) + 2 * pad;
      if (d.y + h > BOTTOM) {
        d.addPage();
        header();
        d.font("Helvetica").fontSize(size);
      }
      const y = d.y;
      let x = MARGIN;
      columns.forEach((c, i) => {
        d.fillColor(opts.color?.(row, i) ?? INK).text(cells[i] ?? "", x + pad, y + pad, { width: c.width - 2 * pad });
        x += c.width;
      });
      d.moveTo(MARGIN, y + h).lineTo(MARGIN + CONTENT_WIDTH, y + h).lineWidth(0.4).strokeColor(RULE).stroke();
      d.y = y + h;
    }
    d.x = MARGIN;
    d.moveDown(0.5);
  }
}

const cols = (...spec: Array<[string, number]>): Column[] => {
  const total = spec.reduce((n, [, w]) => n + w, 0);
  return spec.map(([header, w]) => ({ header, width: (w / total) * CONTENT_WIDTH }));
};

const outcomeColor = (row: string[], col: number, outcomeCol: number, versionCol: number) => {
  if (col !== outcomeCol) return null;
  const legacy = row[versionCol] === "TLS 1.0" || row[versionCol] === "TLS 1.1";
  if (row[col] === "accepted") return legacy ? BAD : GOOD;
  return null;
};

function summaryPage(w: Writer, p: PackData) {
  const d = w.doc;
  d.font("Helvetica").fontSize(10).fillColor(MUTED).text("tlsfleet evidence pack", MARGIN, MARGIN);
  d.font("Helvetica-Bold").fontSize(20).fillColor(INK).text(pdfText(p.title), { width: CONTENT_WIDTH });
  d.font("Helvetica").fontSize(9.5).fillColor(MUTED).text(pdfText(`Period ${formatUtc(p.periodStart)} to ${formatUtc(p.generatedAt)}. Generated ${formatUtc(p.generatedAt)} for ${p.requestedBy}. Pack ${p.id}.`), { width: CONTENT_WIDTH });
  d.moveDown(1);

  // The answer first: how many hosts accept TLS 1.0/1.1 now vs at the start of the period.
  const s = p.summary;
  const boxY = d.y;
  d.rect(MARGIN, boxY, CONTENT_WIDTH, 92).lineWidth(1).strokeColor(s.legacyNow > 0 ? BAD : GOOD).stroke();
  d.font("Helvetica-Bold").fontSize(16).fillColor(s.legacyNow > 0 ? BAD : GOOD).text(pdfText(`${s.legacyNow} of ${s.hosts} hosts accept TLS 1.0 or 1.1 now`), MARGIN + 12, boxY + 12, { width: CONTENT_WIDTH - 24 });
  d.font("Helvetica").fontSize(11).fillColor(INK).text(
    pdfText(`At the start of the period (${formatUtc(p.periodStart)}): ${s.legacyThen} of ${s.hostsThen} hosts that existed then. ${s.legacyNow <= s.legacyThen ? `${s.legacyThen - s.legacyNow} fewer now.` : `${s.legacyNow - s.legacyThen} more now.`}`),
    { width: CONTENT_WIDTH - 24 },
  );
  d.font("Helvetica").fontSize(9).fillColor(MUTED).text("Counted from the latest handshake of each endpoint: a host counts when any endpoint completed a TLS 1.0 or 1.1 handshake.", { width: CONTENT_WIDTH - 24 });
  d.y = boxY + 104;
  d.x = MARGIN;

  w.para("Hosts per status now", { bold: true });
  w.table(
    cols(["Status", 3], ["Hosts", 1]),
    Object.entries(s.byStatus)
      .filter(([, n]) => n > 0)
      .map(([status, n]) => [status, String(n)]),
  );
  if (p.rollout) {
    const r = p.rollout;
    w.para("Rollout", { bold: true });
    w.table(cols(["Rollout", 3], ["Goals", 2], ["State", 1], ["Requested by", 2], ["Approved by", 3], ["Plan hash", 3]), [
      [r.id, r.goals.join(", "), r.state, r.requestedBy, r.approvedBy ? `${r.approvedBy} at ${r.approvedAt ? formatUtc(r.approvedAt) : "?"}` : "not approved", r.planHash ?? ""],
    ]);
  }
  w.para("Audit chain", { bold: true });
  w.para(
    p.chain
      ? `Cut from the audit ${p.chain.kind === "checkpoint" ? p.chain.label : "chain head"}: event #${p.chain.id} at ${formatUtc(p.chain.at)}, hash ${p.chain.hash}. Every event up to it is covered by this pack; \`tlsfleet audit verify\` ties the hash to the log.`
      : "The audit log was empty when the pack was cut.",
    { size: 9 },
  );
}

function trendChart(w: Writer, p: PackData) {
  w.heading("Trend: hosts accepting TLS 1.0/1.1", "PCI DSS 4.2.1");
  const d = w.doc;
  w.ensure(230);
  const x0 = MARGIN + 36;
  const y0 = d.y + 10;
  const width = CONTENT_WIDTH - 46;
  const height = 170;
  const points = p.trend;
  const max = Math.max(1, ...points.map((t) => Math.max(t.legacy, t.hosts)));
  const yOf = (v: number) => y0 + height - (v / max) * height;
  const xOf = (i: number) => x0 + (points.length <= 1 ? width / 2 : (i / (points.length - 1)) * width);
  // Grid and axis labels.
  d.font("Helvetica").fontSize(7).fillColor(MUTED);
  for (let g = 0; g <= 4; g++) {
    const v = Math.round((max * g) / 4);
    const y = yOf(v);
    d.moveTo(x0, y).lineTo(x0 + width, y).lineWidth(0.3).strokeColor(RULE).stroke();
    d.text(String(v), MARGIN, y - 3, { width: 30, align: "right" });
  }
  d.moveTo(x0, y0).lineTo(x0, y0 + height).lineTo(x0 + width, y0 + height).lineWidth(0.8).strokeColor(MUTED).stroke();
  const labelEvery = Math.max(1, Math.ceil(points.length / 8));
  points.forEach((t, i) => {
    if (i % labelEvery === 0 || i === points.length - 1) d.fillColor(MUTED).text(t.day.slice(5), xOf(i) - 15, y0 + height + 4, { width: 30, align: "center" });
  });
  const line = (value: (t: PackTrendPoint) => number, color: string, dash: boolean) => {
    if (points.length === 0) return;
    d.moveTo(xOf(0), yOf(value(points[0])));
    points.forEach((t, i) => i > 0 && d.lineTo(xOf(i), yOf(value(t))));
    if (dash) d.dash(3, { space: 2 });
    d.lineWidth(1.6).strokeColor(color).stroke();
    d.undash();
    points.forEach((t, i) => d.circle(xOf(i), yOf(value(t)), 1.8).fillColor(color).fill());
  };
  line((t) => t.hosts, MUTED, true);
  line((t) => t.legacy, BAD, false);
  // Legend.
  const ly = y0 + height + 18;
  d.rect(x0, ly, 10, 3).fillColor(BAD).fill();
  d.fillColor(INK).fontSize(8).text("hosts accepting TLS 1.0 or 1.1 (end of day, UTC)", x0 + 14, ly - 3);
  d.rect(x0 + 230, ly, 10, 3).fillColor(MUTED).fill();
  d.fillColor(INK).text("hosts in the pack that existed", x0 + 244, ly - 3);
  d.x = MARGIN;
  d.y = ly + 16;
}

function mapping(w: Writer) {
  w.heading("What each section answers (PCI DSS v4.0)");
  w.table(
    cols(["Requirement", 1.2], ["What it asks", 4], ["Where in this pack", 4]),
    PCI_MAPPING.map((m) => [m.requirement, m.asks, m.section]),
    { size: 8.5 },
  );
}

function exceptions(w: Writer, p: PackData) {
  w.heading("Exceptions", "PCI DSS 2.2.5: business justification for insecure protocols still present");
  if (p.exceptions.length === 0) return w.para("No exceptions were recorded for these hosts.", { color: MUTED });
  w.table(
    cols(["Host", 2], ["Covers", 1.6], ["Justification", 4], ["Expires", 1.7], ["Requested by", 2], ["Approved by", 2.4], ["State", 1.3]),
    p.exceptions.map((e) => [e.host, e.scope, e.justification, formatUtc(e.expiresAt), e.requestedBy, e.approvedBy ? `${e.approvedBy}${e.approvedAt ? ` at ${formatUtc(e.approvedAt)}` : ""}` : "-", e.state]),
  );
}

function inventory(w: Writer, p: PackData) {
  w.heading("Protocol and cipher inventory per endpoint", "PCI DSS 12.3.3: protocols and cipher suites in use");
  if (p.inventory.length === 0) return w.para("No endpoint has been probed yet.", { color: MUTED });
  w.table(
    cols(["Host", 2.2], ["Endpoint", 1.3], ["Protocols accepted", 2], ["Cipher suite negotiated per protocol", 5], ["Probed", 1.9]),
    p.inventory.map((r) => [r.host, r.endpoint, r.accepted, r.ciphers, r.probedAt]),
    { color: (row, col) => (col === 2 && /TLS 1\.[01]/.test(row[2]) ? BAD : null) },
  );
}

function hostEvidence(w: Writer, h: PackHost) {
  const d = w.doc;
  w.ensure(120);
  d.moveDown(0.4);
  d.font("Helvetica-Bold").fontSize(11).fillColor(INK).text(pdfText(`${h.name}  (${h.address})`), MARGIN, d.y, { width: CONTENT_WIDTH });
  w.para(`Status: ${h.status}. ${h.explanation}`, { size: 8.5, color: MUTED });
  const probed = h.rows.filter((r) => r.endpoint);
  if (probed.length) {
    w.table(
      cols(["Endpoint", 1.3], ["Version", 1], ["Outcome", 1.2], ["Cipher", 3.2], ["Reason", 2.8], ["Probed at", 2]),
      probed.map((r) => [r.endpoint, r.version, r.outcome, r.cipher, r.reason, r.probedAt ? formatUtc(new Date(r.probedAt)) : "not probed"]),
      { size: 7.5, color: (row, col) => outcomeColor(row, col, 2, 1) },
    );
  } else w.para("No endpoints.", { size: 8.5, color: MUTED });
  w.table(cols(["Config at the start of the period", 1], ["Config now", 1]), [[h.configThen ?? "no config snapshot", h.configNow ?? "no config snapshot"]], { size: 7.5 });
  for (const c of h.changes) {
    w.para(`Change: ${c.rollout} (rollout ${c.rolloutState}; this host ${c.hostState}). Requested by ${c.requestedBy}; approved by ${c.approvedBy ? `${c.approvedBy}${c.approvedAt ? ` at ${formatUtc(c.approvedAt)}` : ""}` : "nobody (not approved)"}.`, { size: 8 });
    w.table(cols(["Before the change", 1], ["After the change", 1]), [[c.before.join("\n") || "-", c.after.join("\n") || "-"]], { size: 7.5 });
  }
}

/** Renders the pack; `onHost` is called after each host's evidence is drawn (progress). */
export async function renderPackPdf(p: PackData, onHost?: (done: number) => Promise<void> | void): Promise<Buffer> {
  const doc = new PDFDocument({ size: "A4", margin: MARGIN, bufferPages: true, info: { Title: pdfText(`tlsfleet evidence: ${p.title}`), Author: "tlsfleet", CreationDate: p.generatedAt } });
  const chunks: Buffer[] = [];
  doc.on("data", (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on("end", () => resolve());
    doc.on("error", reject);
  });
  const w = new Writer(doc);
  summaryPage(w, p);
  trendChart(w, p);
  mapping(w);
  exceptions(w, p);
  inventory(w, p);
  doc.addPage();
  w.heading("Per-host evidence", "PCI DSS 4.2.1: handshake per TLS version with its time, config before and after, who requested and approved each change");
  for (let i = 0; i < p.hosts.length; i++) {
    hostEvidence(w, p.hosts[i]);
    await onHost?.(i + 1);
  }
  // Footer on every page: which pack, which audit position, page n of m.
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    // Below the bottom margin: without this pdfkit would start a new page for the footer.
    doc.page.margins.bottom = 0;
    const chain = p.chain ? ` - audit ${p.chain.kind} #${p.chain.id} ${p.chain.hash.slice(0, 16)}` : "";
    doc.font("Helvetica").fontSize(7).fillColor(MUTED);
    doc.text(pdfText(`tlsfleet evidence pack ${p.id}${chain} - page ${i + 1} of ${range.count}`), MARGIN, PAGE.height - MARGIN + 10, { width: CONTENT_WIDTH, align: "center", lineBreak: false });
  }
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
