// The audit export file (docs/audit.md "Export format"): every event, every checkpoint and the
// public key in one JSON document, so a third party can verify the chain without the database:
// `tlsfleet audit verify --file export.json [--public-key key.pem]`.
import { createPublicKey, type KeyObject } from "node:crypto";
import { z } from "zod";
import type { ChainEvent } from "./chain";
import type { SignedCheckpoint } from "./checkpoint";
import { keyIdOf } from "./checkpoint";
import { verifyChain, type VerifyReport } from "./verify-core";

export const EXPORT_FORMAT = "tlsfleet-audit-export";
export const EXPORT_VERSION = 1;

const bigintString = z.string().regex(/^\d+$/).transform((s) => BigInt(s));
const isoDate = z.iso.datetime().transform((s) => new Date(s));

const ExportedEvent = z.object({
  id: bigintString,
  seq: bigintString,
  at: isoDate,
  actor: z.string(),
  actorId: z.string().nullable(),
  action: z.string(),
  target: z.string().nullable(),
  details: z.unknown(),
  prevHash: z.string(),
  hash: z.string(),
});

const ExportedCheckpoint = z.object({
  number: z.number().int().min(1),
  at: isoDate,
  seq: bigintString,
  hash: z.string(),
  prevCheckpointHash: z.string(),
  keyId: z.string(),
  signature: z.string(),
  checkpointHash: z.string(),
});

export const AuditExport = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  exportedAt: isoDate,
  publicKey: z.string(),
  keyId: z.string(),
  checkpoints: z.array(ExportedCheckpoint),
  events: z.array(ExportedEvent),
});

/** One event as a line of the file. */
export function exportedEventJson(e: ChainEvent): string {
  return JSON.stringify({ id: String(e.id), seq: e.seq.toString(), at: e.at.toISOString(), actor: e.actor, actorId: e.actorId, action: e.action, target: e.target, details: e.details ?? null, prevHash: e.prevHash, hash: e.hash });
}

export function exportedCheckpointJson(c: SignedCheckpoint): string {
  return JSON.stringify({ ...c, at: c.at.toISOString(), seq: c.seq.toString() });
}

/** The file's opening up to the events array; events follow, comma separated, then EXPORT_END. */
export function exportHead(opts: { exportedAt: Date; publicKeyPem: string; checkpoints: SignedCheckpoint[] }): string {
  const publicKey = createPublicKey(opts.publicKeyPem);
  return (
    `{"format":${JSON.stringify(EXPORT_FORMAT)},"version":${EXPORT_VERSION},"exportedAt":${JSON.stringify(opts.exportedAt.toISOString())},` +
    `"publicKey":${JSON.stringify(opts.publicKeyPem)},"keyId":${JSON.stringify(keyIdOf(publicKey))},\n"checkpoints":[\n` +
    opts.checkpoints.map(exportedCheckpointJson).join(",\n") +
    `\n],\n"events":[\n`
  );
}

export const EXPORT_END = "\n]}\n";

/**
 * Verifies an export. The key in the file proves nothing by itself (whoever edited the file could
 * replace it): pass the key you got from the operator, or compare the printed key id with theirs.
 */
export async function verifyExport(text: string, publicKeyOverride?: KeyObject): Promise<VerifyReport & { keyId: string; exportedAt: Date }> {
  const data = AuditExport.parse(JSON.parse(text));
  const publicKey = publicKeyOverride ?? createPublicKey(data.publicKey);
  const events = [...data.events].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  const byHash = new Map(events.map((e) => [e.hash, { seq: e.seq }]));
  const report = await verifyChain({ events, findByHash: async (h) => byHash.get(h) ?? null, checkpoints: data.checkpoints, publicKey });
  return { ...report, keyId: keyIdOf(publicKey), exportedAt: data.exportedAt };
}
