import { DIRECTION_LABEL, type Direction, type DirectionVerdict, type HostStatusValue } from "@/lib/compliance/status";
import { StatusBadge } from "@/app/_components/ui/status-badge";

// The titles are the words the status explanations use ("Outbound to Microsoft 365: ...").
const ROLE: Record<Direction, string> = { inbound: "this host as TLS server (its listeners)", outbound: "this host as TLS client (the mail it sends)" };

const BADGE: Record<DirectionVerdict["state"], HostStatusValue> = { ok: "compliant", at_risk: "at_risk", noncompliant: "noncompliant", excepted: "excepted", unknown: "unknown" };

const SOURCE: Record<Direction, Record<DirectionVerdict["source"], string>> = {
  inbound: { wire: "Decided by the wire probes; config evidence is advisory.", config: "No conclusive probe yet: config evidence only.", none: "No probe and no config audit yet." },
  outbound: {
    wire: "Decided by an outbound check on the wire; config evidence is advisory.",
    config: "From config evidence: probing this host's listeners says nothing about the mail it sends.",
    none: "No config audit yet: run one to see what this host offers when it sends.",
  },
};

/** Several findings can share one text (a config side that enables TLS 1.0 and lacks TLS 1.2 is
 *  two findings in one sentence): each sentence is shown once. */
const once = (texts: string[]) => [...new Set(texts)];

/** Both directions of mail side by side: what decides each, what it shows, and what is only advisory. */
export function MailDirections({ directions }: { directions: Record<Direction, DirectionVerdict> }) {
  return (
    <div className="grid grid-cols-1 gap-4 md:grid-cols-2" data-testid="mail-directions">
      {(["inbound", "outbound"] as const).map((d) => {
        const v = directions[d];
        return (
          <section key={d} className="rounded-md border border-slate-200 p-3" aria-label={DIRECTION_LABEL[d]} data-testid={`direction-${d}`}>
            <header className="mb-1 flex flex-wrap items-center gap-2">
              <h3 className="text-sm font-semibold">{DIRECTION_LABEL[d]}</h3>
              <StatusBadge status={BADGE[v.state]} />
            </header>
            <p className="text-xs text-slate-600">
              {ROLE[d]}. {SOURCE[d][v.source]}
            </p>
            {v.findings.length > 0 && (
              <ul className="mt-2 list-disc pl-5 text-sm text-slate-900">
                {once(v.findings).map((f) => (
                  <li key={f}>{f}</li>
                ))}
              </ul>
            )}
            {v.excepted.length > 0 && (
              <ul className="mt-2 list-disc pl-5 text-sm text-sky-900">
                {once(v.excepted).map((f) => (
                  <li key={f}>{f}</li>
                ))}
              </ul>
            )}
            {v.advisories.length > 0 && (
              <div className="mt-2" data-testid={`advisory-${d}`}>
                <p className="text-xs font-medium uppercase tracking-wide text-slate-500">Config evidence (advisory: the wire decides this direction)</p>
                <ul className="list-disc pl-5 text-sm text-slate-700">
                  {once(v.advisories).map((f) => (
                    <li key={f}>{f}</li>
                  ))}
                </ul>
              </div>
            )}
            {v.state === "ok" && v.findings.length === 0 && <p className="mt-2 text-sm text-slate-700">No finding.</p>}
          </section>
        );
      })}
    </div>
  );
}
