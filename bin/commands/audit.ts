// `tlsfleet audit verify | checkpoint | export` (docs/audit.md). verify exits 1 on any break, so
// it can run from cron or CI; `verify --file` needs no database at all.
import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseSubcommand } from "./cli";

const USAGE = `usage: tlsfleet audit <command>

  verify                       walk the whole chain and every checkpoint in the database
                               (exit 0 when intact, 1 at the first break, which is named)
  verify --file EXPORT.json    verify an export without the database
         [--public-key PEM]    the key to trust (default: the one in the file; compare its id)
  checkpoint                   sign the chain head now
  export [--out FILE]          events + checkpoints + public key in one file
                               (default audit-export-<time>.json)`;

type Parsed = { command: "verify"; file?: string; publicKey?: string } | { command: "checkpoint" } | { command: "export"; out: string };

function parse(argv: string[]): Parsed | string {
  const [command, ...rest] = argv;
  try {
    if (command === "verify") {
      const { values } = parseArgs({ args: rest, options: { file: { type: "string" }, "public-key": { type: "string" } }, strict: true, allowPositionals: false });
      if (values["public-key"] && !values.file) return "--public-key goes with --file (the database is verified with the key in TLSFLEET_AUDIT_KEY_DIR)";
      return { command, file: values.file, publicKey: values["public-key"] };
    }
    if (command === "checkpoint") return rest.length === 0 ? { command } : `unexpected arguments: ${rest.join(" ")}`;
    if (command === "export") {
      const { values } = parseArgs({ args: rest, options: { out: { type: "string" } }, strict: true, allowPositionals: false });
      return { command, out: values.out ?? `audit-export-${new Date().toISOString().replace(/[:.]/g, "-")}.json` };
    }
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return command ? `unknown command '${command}'` : "missing command";
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseSubcommand("audit", USAGE, argv, parse);
  if (typeof parsed === "number") return parsed;
  const { describeReport } = await import("../../lib/audit/verify-core");
  if (parsed.command === "verify" && parsed.file) {
    const { verifyExport } = await import("../../lib/audit/export-format");
    const key = parsed.publicKey ? createPublicKey(readFileSync(parsed.publicKey, "utf8")) : undefined;
    const report = await verifyExport(readFileSync(parsed.file, "utf8"), key);
    console.log(`key ${report.keyId}${key ? "" : " (from the file: compare it with the operator's key id)"}, exported ${report.exportedAt.toISOString()}`);
    console.log(describeReport(report));
    return report.ok ? 0 : 1;
  }

  const { ensureDatabase } = await import("../../lib/db/database");
  const db = await ensureDatabase();
  try {
    const { loadAuditPublicKey, loadOrCreateAuditKeys } = await import("../../lib/audit/keys");
    const audit = await import("../../lib/audit/verify");
    switch (parsed.command) {
      case "verify": {
        const report = await audit.verifyAuditChain({ publicKey: loadAuditPublicKey(), full: true });
        console.log(describeReport(report));
        return report.ok ? 0 : 1;
      }
      case "checkpoint": {
        const c = await audit.createCheckpoint(loadOrCreateAuditKeys());
        console.log(`checkpoint ${c!.number}: event #${c!.seq} ${c!.hash} at ${c!.at.toISOString()}, key ${c!.keyId}`);
        return 0;
      }
      case "export": {
        const keys = loadOrCreateAuditKeys();
        const r = await audit.writeAuditExport(parsed.out, keys.publicKeyPem);
        console.log(`wrote ${parsed.out}: ${r.events} events, ${r.checkpoints} checkpoints, key ${keys.keyId}`);
        return 0;
      }
    }
  } finally {
    const { disconnectPrisma } = await import("../../lib/db");
    await disconnectPrisma();
    await db.stop();
  }
}
