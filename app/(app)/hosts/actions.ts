"use server";
// Host mutations from the UI. Each goes through authorizedAction (session, role, zod input);
// the lib functions record the audit event in the same transaction as the change.
// CSV import is not here: its files exceed the 1 MB server-action body limit, so the import page
// posts to /api/v1/hosts/import, which runs the same lib code behind route() (lib/http/route.ts).
import { z } from "zod";
import { authorizedAction } from "@/lib/auth/guard";
import { BulkHostTarget } from "@/lib/inventory/filter";
import { createHost, deleteHostTargets, updateHost } from "@/lib/inventory/hosts";
import { HostInput } from "@/lib/inventory/model";
import { DeleteSavedFilterInput, deleteSavedFilter, SaveFilterInput, saveFilter } from "@/lib/inventory/saved-filters";

const revalidate = ["/hosts", "/"];

export const createHostAction = authorizedAction("hosts.write", HostInput, async (input, user) => {
  const host = await createHost(user, input);
  return { id: host.id, name: host.name };
}, { revalidate, success: "Host added" });

export const updateHostAction = authorizedAction("hosts.write", HostInput.extend({ id: z.uuid() }), async ({ id, ...input }, user) => {
  const host = await updateHost(user, id, input);
  return { id: host.id, name: host.name, credentialDropped: host.credentialDropped };
}, { revalidate, success: "Host saved" });

export const deleteHostsAction = authorizedAction("hosts.write", BulkHostTarget, async (target, user) => {
  const deleted = await deleteHostTargets(user, target);
  return { deleted };
}, { revalidate });

// Saved filters only change the signed-in user's own list, so any role that can read the host
// list may keep them ("read"), not only those who may change hosts.
export const saveFilterAction = authorizedAction("read", SaveFilterInput, (input, user) => saveFilter(user, input), { revalidate: ["/hosts"], success: "Filter saved" });

export const deleteSavedFilterAction = authorizedAction("read", DeleteSavedFilterInput, (input, user) => deleteSavedFilter(user, input.id), { revalidate: ["/hosts"], success: "Filter deleted" });
