"use server";
// Host-level mutations of the host page: the host-key workflow (an admin confirms the key a first
// contact recorded, or forgets the pinned one) and the admin's identity decisions (trust on first
// use, WinRM over HTTP, legacy TLS). Its scan, audit and outbound check buttons start jobs through
// the jobs' own actions (../../jobs/actions.ts), on this one host.
import { authorizedAction } from "@/lib/auth/guard";
import { confirmHostKey, ConfirmHostKeyInput, forgetHostKey, HostIdInput, HostTrustInput, setHostTrust } from "@/lib/hosts/host-keys";

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
