import "server-only";
// What each row of a CSV import does to its host's credential (lib/inventory/custody.ts), decided
// as updateHost decides it, for the preview and again inside the commit's transaction: rows an
// actor may not import (an operator attaching a credential, a credential outside its scope) are
// problems of their row, and a credential the row detaches is a warning on its row, both with
// what to do, so the user sees them before committing.
import type { prisma } from "../db";
import { outOfScopeMessage, scopeMatch, type CredentialScope } from "../credentials/scope-match";
import { decideCustody, type CustodyField } from "./custody";
import type { ImportColumn, ImportIssue, ImportRow } from "./import-rows";

/** One host whose address, transport, port or credential the import changes, for the audit. */
export interface CustodyChange {
  host: string;
  changed: CustodyField[];
  credentialDropped: boolean;
  from: { address: string; transport: string; port: number | null; credential: string | null };
  to: { address: string; transport: string; port: number | null; credential: string | null };
}

export interface RowCustody {
  /** Names of the (not retired) hosts the file updates. */
  existing: Set<string>;
  /** Per host name: the transport, port and credential to store (absent columns keep the stored value). */
  effective: Map<string, { transport: string; port: number | null; credentialId: string | null }>;
  changes: CustodyChange[];
  /** Rows the actor may not import, one problem each. */
  refusals: ImportIssue[];
  /** Rows whose host loses its credential, one warning each. */
  warnings: ImportIssue[];
}

interface StoredCustody {
  name: string;
  address: string;
  transport: string;
  port: number | null;
  credentialId: string | null;
}

function droppedWarning(line: number, change: CustodyChange, wantedCredential: string | null): ImportIssue {
  const describe = (f: CustodyField) => (f === "credential" ? `credential ${change.from.credential} -> ${wantedCredential ?? "none"}` : `${f} ${change.from[f] ?? "default"} -> ${change.to[f] ?? "default"}`);
  return {
    line,
    column: change.changed.find((f) => f !== "credential") ?? "credential",
    reason:
      `The credential "${change.from.credential}" will be detached from ${change.host}: this row changes its ${change.changed.map(describe).join(", ")}, ` +
      `and only an admin points a credential at another machine. After the import an admin attaches it again on the host's edit page (until then audits and remediation cannot log in); or an admin imports this file.`,
  };
}

export async function rowCustody(
  db: Pick<typeof prisma, "$queryRaw">,
  isAdmin: boolean,
  rows: readonly ImportRow[],
  columns: readonly ImportColumn[],
  credentialIds: ReadonlyMap<string, string>,
): Promise<RowCustody> {
  const present = new Set(columns);
  const names = rows.map((r) => r.input.name);
  const stored = new Map(
    (
      await db.$queryRaw<StoredCustody[]>`
        SELECT h.name, h.address, h.transport::text AS transport, h.port, h."credentialId"::text AS "credentialId"
        FROM "Host" h JOIN unnest(${names}::text[]) AS n("name") ON n."name" = h."name" WHERE h."retiredAt" IS NULL`
    ).map((h) => [h.name, h]),
  );
  const credentials = credentialIds.size || [...stored.values()].some((h) => h.credentialId)
    ? await db.$queryRaw<Array<CredentialScope & { id: string; name: string }>>`SELECT id::text AS id, name, "scopeHosts", "scopeGroups", "scopeCidrs" FROM "Credential"`
    : [];
  const byId = new Map(credentials.map((c) => [c.id, c]));
  const nameOf = (id: string | null) => (id ? (byId.get(id)?.name ?? null) : null);
  const out: RowCustody = { existing: new Set(stored.keys()), effective: new Map(), changes: [], refusals: [], warnings: [] };
  for (const r of rows) {
    const before = stored.get(r.input.name) ?? null;
    const wanted = {
      address: r.input.address,
      transport: present.has("transport") || !before ? r.input.transport : before.transport,
      port: present.has("port") || !before ? (r.input.port ?? null) : before.port,
      credentialId: present.has("credential") || !before ? (r.input.credentialName ? (credentialIds.get(r.input.credentialName) ?? null) : null) : before.credentialId,
    };
    const d = decideCustody(before, wanted, isAdmin);
    if (d.refusal) {
      out.refusals.push({
        line: r.line,
        column: "credential",
        reason: `Only an admin attaches a credential ("${r.input.credentialName}") to a host: leave the credential cell empty and ask an admin to attach it after the import (Settings > Credentials sets where each may be used)`,
      });
      continue;
    }
    const credential = d.credentialId ? byId.get(d.credentialId) : undefined;
    const scoped = { name: r.input.name, group: r.input.group ?? null, address: r.input.address };
    if (d.checkScope && credential && !scopeMatch(credential, scoped)) {
      out.refusals.push({ line: r.line, column: "credential", reason: `${outOfScopeMessage(credential.name, scoped, credential)}; or correct the row's address or group` });
      continue;
    }
    out.effective.set(r.input.name, { transport: wanted.transport, port: wanted.port, credentialId: d.credentialId });
    if (before && (d.changed.length || d.credentialDropped)) {
      const change: CustodyChange = {
        host: r.input.name,
        changed: d.changed,
        credentialDropped: d.credentialDropped,
        from: { address: before.address, transport: before.transport, port: before.port, credential: nameOf(before.credentialId) },
        to: { address: wanted.address, transport: wanted.transport, port: wanted.port, credential: nameOf(d.credentialId) },
      };
      out.changes.push(change);
      if (d.credentialDropped) out.warnings.push(droppedWarning(r.line, change, nameOf(wanted.credentialId)));
    }
  }
  return out;
}
