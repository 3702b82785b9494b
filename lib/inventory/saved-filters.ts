import "server-only";
// Saved host-list filters, per user, in the Setting table under `savedFilters:<userId>` (no
// schema change for a list that is small and only ever read whole). The query string is
// normalised through the list's own parser, so a saved filter can never hold a parameter the
// list would not accept, nor a cursor that goes stale.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { prisma } from "../db";
import { recordAuditInTx } from "../audit/log";
import { filterToSearchParams, parseHostListParams } from "./filter";
import { InventoryError } from "./hosts";
import type { UserActor } from "../auth/actor";

const MAX_SAVED_FILTERS = 50;

const SavedFilter = z.object({ id: z.string(), name: z.string(), query: z.string() });
export type SavedFilter = z.infer<typeof SavedFilter>;

export const SaveFilterInput = z.object({
  name: z.string().trim().min(1, "Give the filter a name").max(60, "At most 60 characters").regex(/^[^\p{Cc}]*$/u, "One line of text"),
  query: z.string().max(1000).transform((q) => q.replace(/^\?/, "")),
});
export const DeleteSavedFilterInput = z.object({ id: z.string().min(1).max(64) });

const keyFor = (userId: string) => `savedFilters:${userId}`;

function parseStored(value: unknown): SavedFilter[] {
  const r = z.array(SavedFilter).safeParse(value);
  return r.success ? r.data : [];
}

/** The normalised query string of a filter: only filter and sort keys, in a stable order. */
export function normaliseFilterQuery(query: string): string {
  const parsed = parseHostListParams(new URLSearchParams(query));
  if (!parsed.success) throw new InventoryError("That filter is not valid: change it on the Hosts page and save it again");
  const { cursor: _c, limit: _l, ...rest } = parsed.data;
  const sp = filterToSearchParams(rest);
  if (rest.sort === "name") sp.delete("sort");
  if (rest.dir === "asc") sp.delete("dir");
  return sp.toString();
}

export async function listSavedFilters(userId: string): Promise<SavedFilter[]> {
  const row = await prisma.setting.findUnique({ where: { key: keyFor(userId) } });
  return parseStored(row?.value);
}

async function mutate(actor: UserActor, change: (list: SavedFilter[]) => SavedFilter[], audit: () => { action: string; target: string }) {
  const key = keyFor(actor.id);
  return prisma.$transaction(async (tx) => {
    // Two tabs saving at once must not drop each other's filter.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${key}))`;
    const row = await tx.setting.findUnique({ where: { key } });
    const next = change(parseStored(row?.value));
    await tx.setting.upsert({ where: { key }, create: { key, value: next }, update: { value: next } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, ...audit() });
    return next;
  });
}

/** Saves (or, under an existing name, replaces) a filter of the current user. */
export async function saveFilter(actor: UserActor, input: z.output<typeof SaveFilterInput>): Promise<SavedFilter> {
  const query = normaliseFilterQuery(input.query);
  const saved: SavedFilter = { id: randomUUID(), name: input.name, query };
  await mutate(
    actor,
    (list) => {
      const others = list.filter((f) => f.name.toLowerCase() !== input.name.toLowerCase());
      if (others.length >= MAX_SAVED_FILTERS) throw new InventoryError(`You have ${MAX_SAVED_FILTERS} saved filters; delete one first`);
      return [...others, saved].sort((a, b) => a.name.localeCompare(b.name));
    },
    () => ({ action: "filter.save", target: `filter:${input.name}` }),
  );
  return saved;
}

export async function deleteSavedFilter(actor: UserActor, id: string): Promise<void> {
  let name = id;
  await mutate(
    actor,
    (list) => {
      const hit = list.find((f) => f.id === id);
      if (!hit) throw new InventoryError("That saved filter no longer exists");
      name = hit.name;
      return list.filter((f) => f.id !== id);
    },
    () => ({ action: "filter.delete", target: `filter:${name}` }),
  );
}
