import type { ConfigEvidenceView } from "@/lib/hosts/detail";
import { formatUtc } from "@/app/(app)/components/format";

/**
 * Configuration evidence: the latest snapshot of every playbook that audited this host (SCHANNEL
 * and .NET values, Postfix/nginx/Dovecot parameters), as the config-audit jobs stored it.
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
    <div className="grid gap-4 lg:grid-cols-2" data-testid="config-evidence">
      {snapshots.map((s) => (
        <section key={s.playbook} className="rounded-md border border-slate-200 p-3" aria-label={`Playbook ${s.playbook}`}>
          <header className="mb-2 flex flex-wrap items-baseline justify-between gap-2">
            <h3 className="font-mono text-sm font-semibold">{s.playbook}</h3>
            <span className="text-xs text-slate-600">{formatUtc(s.takenAt)}</span>
          </header>
          {s.rebootPending && <p className="mb-2 rounded bg-violet-100 px-2 py-1 text-xs font-medium text-violet-800">Reboot pending: changes are not effective until the host restarts</p>}
          {s.summary && <p className="mb-2 text-sm text-slate-700">{s.summary}</p>}
          {s.values.length > 0 ? (
            <dl className="grid grid-cols-[minmax(0,1fr)_auto] gap-x-4 gap-y-0.5 text-xs">
              {s.values.filter(([k]) => k !== "summary").map(([k, v]) => (
                <div key={k} className="contents">
                  <dt className="truncate font-mono text-slate-600" title={k}>{k}</dt>
                  <dd className="text-right font-mono text-slate-900">{v === null ? "(absent)" : String(v)}</dd>
                </div>
              ))}
            </dl>
          ) : (
            <p className="text-xs text-slate-600">The snapshot holds no parsed values.</p>
          )}
        </section>
      ))}
    </div>
  );
}
