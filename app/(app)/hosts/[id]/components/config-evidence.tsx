import Link from "next/link";
import type { ConfigEvidenceView } from "@/lib/hosts/detail";
import { formatUtc } from "@/lib/time";
import { ConfigStateView, rebootReason } from "./config-state-view";

/**
 * Configuration evidence: the latest snapshot of every playbook that audited this host, in the
 * operator's terms (SCHANNEL per version and side, Postfix/nginx/Dovecot settings with where they
 * come from), as the config-audit jobs stored it.
 */
export function ConfigEvidence({ snapshots, hasCredential }: { snapshots: ConfigEvidenceView[]; hasCredential: boolean }) {
  if (snapshots.length === 0) {
    return (
      <p className="text-sm text-slate-600" data-testid="config-evidence-empty">
        No config audit yet: run a config audit (needs a credential{hasCredential ? "; this host has one" : "; assign one on the edit page"}) to see what the host&apos;s configuration enables, next to what the wire shows.
      </p>
    );
  }
  return (
    <div className="flex flex-col gap-4" data-testid="config-evidence">
      {snapshots.map((s) => {
        const reason = s.rebootPending ? rebootReason(s.state) : null;
        return (
          <section key={s.playbook} className="rounded-md border border-slate-200 p-3" aria-label={`Playbook ${s.playbook}`} data-testid={`config-${s.playbook}`}>
            <header className="mb-2 flex flex-wrap items-baseline justify-between gap-2">
              <h3 className="font-mono text-sm font-semibold">{s.playbook}</h3>
              <span className="text-xs text-slate-600">
                audited {formatUtc(s.takenAt)}
                {s.jobId && (
                  <>
                    {" "}
                    (<Link href={`/jobs/${s.jobId}`} className="text-brand-700 hover:underline">job</Link>)
                  </>
                )}
              </span>
            </header>
            {s.rebootPending && (
              <p className="mb-2 rounded bg-violet-100 px-2 py-1 text-xs font-medium text-violet-800" data-testid="reboot-pending">
                Reboot pending: changes are not effective until the host restarts{reason ? ` (${reason})` : ""}
              </p>
            )}
            {s.summary && <p className="mb-2 text-sm text-slate-700">{s.summary}</p>}
            <ConfigStateView playbook={s.playbook} state={s.state} values={s.values} />
          </section>
        );
      })}
    </div>
  );
}
