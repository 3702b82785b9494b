// `tlsfleet hosts import FILE --as EMAIL [--preview]`: the CSV import of the import page and
// POST /api/v1/hosts/import (lib/inventory/import.ts, the same code), from a file on this
// machine, with its progress on stderr. It acts as the named user (their role decides credential
// custody, and the audit event names them). Without --preview it imports the file as it is on
// disk: all rows or, when any row has a problem, none, with every problem listed.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { parseSubcommand } from "./cli";
import type { ImportPreview, ImportProgress } from "../../lib/inventory/import";

const USAGE = `usage: tlsfleet hosts import FILE --as EMAIL [--preview]

  import FILE      import a CSV file of hosts (the import page's format, up to 1,000,000 rows),
                   all rows or none; progress on stderr, the result on stdout
    --as EMAIL     the user the import acts as (needs the operator role or above)
    --preview      validate and say what it would do; write nothing
  exit 0 when imported (or a clean preview), 1 when the file has problems (nothing written)`;

type Parsed = { file: string; as: string; preview: boolean };

function parse(argv: string[]): Parsed | string {
  const [command, ...rest] = argv;
  if (command !== "import") return command ? `unknown command '${command}'` : "missing command";
  try {
    const { values, positionals } = parseArgs({ args: rest, options: { as: { type: "string" }, preview: { type: "boolean" } }, strict: true, allowPositionals: true });
    if (positionals.length !== 1) return "import takes one FILE";
    if (!values.as) return "--as EMAIL is required (the user the import acts as)";
    return { file: positionals[0]!, as: values.as, preview: Boolean(values.preview) };
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const n = (x: number) => x.toLocaleString("en");
const plural = (x: number, word: string) => `${n(x)} ${word}${x === 1 ? "" : "s"}`;

function describeProgress(p: ImportProgress, size: number): string {
  if (p.phase === "writing") return `writing: ${n(p.written)} of ${n(p.toWrite)} hosts`;
  if (p.phase === "checking") return `checking ${plural(p.rows, "row")} for repeated names`;
  return `reading: ${n(p.rows)} rows (${Math.round((100 * p.bytes) / Math.max(size, 1))}% of the file), ${n(p.validated)} checked, ${n(p.problems)} problems`;
}

function printProblems(preview: ImportPreview) {
  const rows = Math.max(preview.badRowCount, 1);
  console.log(`${plural(preview.issueCount, "problem")} in ${plural(rows, "row")}; nothing imported. ${preview.issues.length < preview.issueCount ? `The first ${n(preview.issues.length)}:` : "Each:"}`);
  for (const i of preview.issues) console.log(`  line ${i.line}${i.column ? ` (${i.column})` : ""}: ${i.reason}`);
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseSubcommand("hosts", USAGE, argv, parse);
  if (typeof parsed === "number") return parsed;
  const size = (await stat(parsed.file)).size;
  const { ensureDatabase } = await import("../../lib/db/database");
  const db = await ensureDatabase();
  try {
    const { prisma } = await import("../../lib/db");
    const { can } = await import("../../lib/auth/roles");
    const user = await prisma.user.findUnique({ where: { email: parsed.as }, select: { id: true, email: true, role: true, disabledAt: true } });
    if (!user || user.disabledAt || !can(user.role, "hosts.write")) {
      console.error(`tlsfleet hosts: ${parsed.as} ${!user ? "is not a user" : user.disabledAt ? "is disabled" : `has the role ${user.role}, and importing hosts needs operator or above`}`);
      return 1;
    }
    const actor = { id: user.id, email: user.email, role: user.role };
    const { commitImport, ImportRejectedError, previewImport } = await import("../../lib/inventory/import");
    let last = 0;
    const onProgress = (p: ImportProgress) => {
      // About once a second: enough to see it move, few enough lines for a log.
      if (Date.now() - last < 1000) return;
      last = Date.now();
      console.error(describeProgress(p, size));
    };
    const started = performance.now();
    const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
    if (parsed.preview) {
      const preview = await previewImport(actor, createReadStream(parsed.file), { onProgress });
      if (preview.issueCount > 0) {
        printProblems(preview);
        return 1;
      }
      console.log(`${n(preview.rowCount)} rows, no problems: ${n(preview.creates)} new, ${n(preview.updates)} to update; ${n(preview.credentialsDropped)} lose their credential. Nothing written (${seconds()} s). sha256 ${preview.sha256}`);
      return 0;
    }
    try {
      const r = await commitImport(actor, createReadStream(parsed.file), await sha256OfFile(parsed.file), { onProgress });
      console.log(
        `imported ${n(r.rows)} hosts in ${seconds()} s: ${n(r.created)} new, ${n(r.updated)} updated, ${n(r.unchanged)} unchanged; endpoints ${n(r.endpointsAdded)} added, ${n(r.endpointsUpdated)} changed, ${n(r.endpointsRemoved)} removed`,
      );
      return 0;
    } catch (err) {
      if (!(err instanceof ImportRejectedError)) throw err;
      printProblems(err.preview);
      return 1;
    }
  } finally {
    const { disconnectPrisma } = await import("../../lib/db");
    await disconnectPrisma();
    await db.stop();
  }
}
