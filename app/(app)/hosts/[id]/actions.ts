"use server";
// Host-level mutations of the host page: run a config audit or an outbound check of this host, and the host-key
// workflow (an admin confirms the key a first contact recorded, or forgets the pinned one) and
// the admin's identity decisions (trust on first use, WinRM over HTTP, legacy TLS).
import { z } from "zod";
import { authorizedAction } from "@/lib/auth/guard";
import { createAuditJob } from "@/lib/jobs/audits";
import { createOutboundCheckJob } from "@/lib/jobs/outbound";
import { confirmHostKey, ConfirmHostKeyInput, forgetHostKey, HostIdInput, HostTrustInput, setHostTrust } from "@/lib/hosts/host-keys";

export const runHostAuditAction = authorizedAction(
  "audits.run",
  z.object({ hostId: z.uuid() }),
  async (input, user) => createAuditJob(user, { hostIds: [input.hostId] }, { origin: "ui" }),
  { revalidate: ["/jobs"], success: "Config audit started" },
);

export const runOutboundCheckAction = authorizedAction(
  "outbound.run",
  z.object({ hostId: z.uuid() }),
  async (input, user) => createOutboundCheckJob(user, { hostIds: [input.hostId] }, { origin: "ui" }),
  { revalidate: ["/jobs"], success: "Outbound check started" },
);

export const confirmHostKeyAction = authorizedAction("settings.manage", ConfirmHostKeyInput, (input, user) => confirmHostKey(user, input), {
  revalidate: ["/hosts"],
  success: "Host key pinned: changes over this connection are now allowed, and a different key will be refused",
});

export const forgetHostKeyAction = authorizedAction("settings.manage", HostIdInput, (input, user) => forgetHostKey(user, input), {
  revalidate: ["/hosts"],
  success: "Host key forgotten: the next contact records the key the host presents, for confirmation",
});

export const setHostTrustAction = authorizedAction("settings.manage", HostTrustInput, (input, user) => setHostTrust(user, input), {
  revalidate: ["/hosts"],
  success: "Saved",
});
