// Every playbook tlsfleet has, and which of them apply to a host. The worker picks playbooks
// from here by host (scan, remediate) or by the id stored with a ConfigSnapshot (rollback).

import { dovecotPlaybook } from "./dovecot";
import { nginxPlaybook } from "./nginx";
import { postfixPlaybook } from "./postfix";
import { OUTPUT_LIMITS, OutputLimitError, storedSize } from "./output-limits";
import { PlaybookError, type ConfigState, type Host, type Playbook } from "./types";
import { windowsSchannel } from "./windows-schannel";

export const PLAYBOOK_IDS = ["windows-schannel", "postfix", "nginx", "dovecot"] as const;
export type PlaybookId = (typeof PLAYBOOK_IDS)[number];

/**
 * Every check the worker runs goes through here, so one place turns a parser's cap
 * (output-limits.ts) into an error naming the host and the cap, and refuses a state too large to
 * store (a host can make `nginx -T` name thousands of files, each kept byte-exact).
 */
export function boundedCheck<S extends ConfigState>(playbook: Playbook<S>): Playbook<S> {
  return {
    ...playbook,
    async check(s) {
      let state: S;
      try {
        state = await playbook.check(s);
      } catch (e) {
        if (e instanceof OutputLimitError) throw new PlaybookError(s.hostLabel, `${playbook.id} check on ${s.hostLabel}: ${e.message}.`, { cause: e });
        throw e;
      }
      const { raw: _raw, ...stored } = state;
      const bytes = storedSize(stored);
      if (bytes > OUTPUT_LIMITS.stateBytes) {
        throw new PlaybookError(s.hostLabel, `${playbook.id} check on ${s.hostLabel}: the configuration state is ${bytes.toLocaleString("en-US")} bytes, more than the ${OUTPUT_LIMITS.stateBytes.toLocaleString("en-US")}-byte cap; it was not stored.`);
      }
      return state;
    },
  };
}

/** In the order a host's playbooks run: the OS first, then services. */
export const PLAYBOOKS: readonly Playbook<ConfigState>[] = [windowsSchannel, postfixPlaybook, nginxPlaybook, dovecotPlaybook].map((p) => boundedCheck<ConfigState>(p));

/** The playbooks whose appliesTo accepts this host (by platform and roles). */
export function playbooksFor(host: Host): Playbook<ConfigState>[] {
  return PLAYBOOKS.filter((p) => p.appliesTo(host));
}

export function playbookById(id: string): Playbook<ConfigState> | undefined {
  return PLAYBOOKS.find((p) => p.id === id);
}

export { dovecotPlaybook, nginxPlaybook, postfixPlaybook, windowsSchannel };
export type { ProtocolSetting } from "./linux-common";
export type { ApplyOptions } from "./types";
