// Apply and rollback: edit the files byte-exact, keep a copy on the host, `nginx -t`, reload,
// read back; anything failing puts the original bytes back.

import { z } from "zod";
import type { RemoteSession } from "../../transport/types";
import { editAndReload, restoreFiles, type FileEdit, type FileService } from "../apply-steps";
import { BACKUP_SUFFIX, bytesOf, FileSnapshotSchema, readRemoteFile } from "../linux-common";
import { compileGlob } from "../glob";
import { PlaybookError, type Applied, type ApplyOptions, type Change, type ConfigState } from "../types";
import { findAll, parseNginxConfig } from "./parse";
import { dirname } from "./resolve";
import { checkNginx, type NginxChange, type NginxState } from "./state";
import { editNginxFile, withoutManaged } from "./edit";

const ChangeSchema = z.object({
  path: z.string().regex(/^\/[^\0\n\r]*$/),
  value: z.literal("ssl_protocols"),
  action: z.enum(["replace", "insert"]),
  line: z.number().int().positive(),
  context: z.enum(["http", "stream", "mail"]),
  from: z.union([z.string(), z.null()]),
  // Names only, as ssl_protocols takes them: nothing else can reach the file.
  to: z.string().regex(/^(SSLv2|SSLv3|TLSv1|TLSv1\.1|TLSv1\.2|TLSv1\.3)( (SSLv2|SSLv3|TLSv1|TLSv1\.1|TLSv1\.2|TLSv1\.3))*$/),
  reason: z.string(),
});

/** Where the on-host copy goes: next to the file, unless an include pattern of this
 *  configuration would pick the copy up too (Debian's "include sites-enabled/*;"). */
export function backupPathFor(state: Pick<NginxState, "files" | "mainConfigFile">, path: string, includePatterns: string[]): string {
  const candidate = `${path}${BACKUP_SUFFIX}`;
  const prefix = dirname(state.mainConfigFile);
  const hit = includePatterns.some((p) => compileGlob(p.startsWith("/") ? p : `${prefix}/${p}`).test(candidate));
  return hit ? `${dirname(state.mainConfigFile)}/${path.replace(/^\//, "").replace(/\//g, "_")}${BACKUP_SUFFIX}` : candidate;
}

function includePatterns(state: NginxState): string[] {
  const out: string[] = [];
  for (const o of state.originals) {
    try {
      for (const d of findAll(parseNginxConfig(bytesOf(o).toString("latin1")), (x) => x.name === "include")) out.push(...d.args);
    } catch {
      /* reported by check */
    }
  }
  return out;
}

/** nginx as apply-steps.ts edits it: `nginx -t` checks every file it would read. */
const NGINX: FileService<NginxState> = {
  name: "nginx",
  validate: { argv: ["nginx", "-t"], step: "Testing the new configuration (nginx -t)" },
  reload: { argv: ["nginx", "-s", "reload"], step: "Reloading nginx" },
  check: checkNginx,
};

/**
 * Edits each file the plan names (only files check() found to hold ssl_protocols or a context
 * block), keeps FILE.tlsfleet-bak on the host, `nginx -t`, `nginx -s reload`, reads back.
 * Failure at any step writes the original bytes back (and reloads if the reload had happened).
 */
export async function applyNginx(s: RemoteSession, changes: Change[], opts: ApplyOptions<NginxState> = {}): Promise<Applied> {
  const before = opts.before ?? (await checkNginx(s));
  await opts.onBefore?.(before);
  const wanted: NginxChange[] = changes.map((c) => {
    const parsed = ChangeSchema.safeParse(c);
    if (!parsed.success) throw new PlaybookError(s.hostLabel, `Refusing an nginx change on ${s.hostLabel} (${String(c.path)} ${String(c.value)}): only ssl_protocols with protocol names is managed.`, { before });
    if (!before.originals.some((o) => o.path === parsed.data.path)) {
      throw new PlaybookError(s.hostLabel, `Refusing to edit ${parsed.data.path} on ${s.hostLabel}: nginx does not read ssl_protocols or a context block from it.`, { before });
    }
    return { ...parsed.data };
  });
  const byFile = new Map<string, NginxChange[]>();
  for (const c of wanted) byFile.set(c.path, [...(byFile.get(c.path) ?? []), c]);

  // Compute every edit before writing anything: a stale plan is refused with nothing changed.
  const patterns = includePatterns(before);
  const edits: FileEdit[] = [];
  for (const [path, list] of byFile) {
    const original = bytesOf(before.originals.find((o) => o.path === path)!);
    const out = editNginxFile(original.toString("latin1"), list);
    if (typeof out === "string") throw new PlaybookError(s.hostLabel, `The plan no longer fits ${path} on ${s.hostLabel}: ${out}. Run a new check and plan.`, { before });
    if (out.applied.length > 0) edits.push({ path, original, next: Buffer.from(out.text, "latin1"), backupPath: backupPathFor(before, path, patterns), changes: out.applied });
  }
  if (edits.length === 0) return { before, after: before, changes: [], pendingReboot: false };

  const appliedChanges = edits.flatMap((e) => e.changes);
  const after = await editAndReload(s, before, edits, NGINX, (a) => {
    const stillWrong = appliedChanges.filter((c) => !a.directives.some((d) => d.file === c.path && d.args.join(" ") === c.to));
    return stillWrong.length === 0 ? null : `nginx -T does not show ssl_protocols ${stillWrong[0]!.to} in ${stillWrong[0]!.path}`;
  });
  return { before, after, changes: appliedChanges, pendingReboot: false };
}

const BeforeSchema = z.object({ playbookId: z.literal("nginx"), originals: z.array(FileSnapshotSchema) });

/**
 * Puts back the bytes recorded before, file by file, then `nginx -t` and reload. A file that was
 * also changed in other ways since (anything but ssl_protocols lines) is not overwritten: that
 * would undo someone else's work; the error names it and its on-host copy.
 */
export async function rollbackNginx(s: RemoteSession, before: ConfigState): Promise<Applied> {
  const parsed = BeforeSchema.safeParse(before);
  if (!parsed.success) throw new PlaybookError(s.hostLabel, `The snapshot to restore on ${s.hostLabel} is not an nginx snapshot.`);
  const current = await checkNginx(s);
  const restore: Array<{ path: string; bytes: Buffer; from: string; to: string }> = [];
  for (const o of parsed.data.originals) {
    const want = bytesOf(o);
    const now = await readRemoteFile(s, o.path);
    if (now.equals(want)) continue;
    if (withoutManaged(now.toString("latin1")) !== withoutManaged(want.toString("latin1"))) {
      throw new PlaybookError(
        s.hostLabel,
        `${o.path} on ${s.hostLabel} was changed in other ways since tlsfleet's snapshot; restoring it would undo those changes. Restore ssl_protocols by hand (the snapshot and ${o.path}${BACKUP_SUFFIX} hold the previous content).`,
        { before },
      );
    }
    const protocolsIn = (b: Buffer) => {
      try {
        return findAll(parseNginxConfig(b.toString("latin1")), (x) => x.name === "ssl_protocols" && x.block === null).map((d) => d.args.join(" ")).join("; ");
      } catch {
        return "?";
      }
    };
    restore.push({ path: o.path, bytes: want, from: protocolsIn(now), to: protocolsIn(want) });
  }
  if (restore.length === 0) return { before: current, after: current, changes: [], pendingReboot: false };
  const problem = await restoreFiles(s, NGINX, restore, true);
  if (problem !== null) throw new PlaybookError(s.hostLabel, `Rolling back nginx on ${s.hostLabel} failed: ${problem}.`, { before: current });
  const after = await checkNginx(s);
  return {
    before: current,
    after,
    changes: restore.map((r) => ({ path: r.path, value: "ssl_protocols", from: r.from || null, to: r.to || null, reason: "rollback" })),
    pendingReboot: false,
  };
}
