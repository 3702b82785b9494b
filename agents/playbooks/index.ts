// Every playbook tlsfleet has, and which of them apply to a host. The worker picks playbooks
// from here by host (scan, remediate) or by the id stored with a ConfigSnapshot (rollback).

import { dovecotPlaybook } from "./dovecot";
import { nginxPlaybook } from "./nginx";
import { postfixPlaybook } from "./postfix";
import type { ConfigState, Host, Playbook } from "./types";
import { windowsSchannel } from "./windows-schannel";

export const PLAYBOOK_IDS = ["windows-schannel", "postfix", "nginx", "dovecot"] as const;
export type PlaybookId = (typeof PLAYBOOK_IDS)[number];

/** In the order a host's playbooks run: the OS first, then services. */
export const PLAYBOOKS: readonly Playbook<ConfigState>[] = [windowsSchannel, postfixPlaybook, nginxPlaybook, dovecotPlaybook];

/** The playbooks whose appliesTo accepts this host (by platform and roles). */
export function playbooksFor(host: Host): Playbook<ConfigState>[] {
  return PLAYBOOKS.filter((p) => p.appliesTo(host));
}

export function playbookById(id: string): Playbook<ConfigState> | undefined {
  return PLAYBOOKS.find((p) => p.id === id);
}

export { dovecotPlaybook, nginxPlaybook, postfixPlaybook, windowsSchannel };
export type { ApplyOptions, ProtocolSetting } from "./linux-common";
