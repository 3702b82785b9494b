import type { EndpointEvidence } from "@/lib/hosts/detail";
import { expiryState, TLS_VERSION_LABEL, TLS_VERSIONS, type TlsVersion } from "@/lib/hosts/evidence";
import { formatDay } from "@/app/(app)/components/format";
import { formatUtc } from "@/lib/time";

const LEGACY: ReadonlySet<TlsVersion> = new Set(["TLSv1", "TLSv1.1"]);

// Accepting TLS 1.0/1.1 is the finding (red); accepting 1.2/1.3 is what we want (green); a rejected
// 1.2 AND 1.3 is flagged by the verdict, not by the cell. Unknown is never shown as rejected.
function cellStyle(version: TlsVersion, outcome: string): string {
  if (outcome === "accepted") return LEGACY.has(version) ? "bg-red-50 text-red-800" : "bg-green-50 text-green-800";
  if (outcome === "rejected") return LEGACY.has(version) ? "bg-green-50 text-green-800" : "bg-slate-50 text-slate-700";
  return "bg-yellow-50 text-yellow-900";
}

const STARTTLS_LABEL: Record<string, string> = { offered: "offered", "not-offered": "NOT offered", "not-applicable": "implicit TLS" };

type Probe = NonNullable<EndpointEvidence["probe"]>;

function CertificateLine({ cert, now }: { cert: NonNullable<Probe["certificate"]>; now: Date }) {
  const expiry = cert.notAfter ? expiryState(cert.notAfter, now) : null;
  return (
    <p className="text-xs text-slate-700">
      <span className="font-medium text-slate-500">Certificate</span> {cert.subject ?? "?"} <span className="text-slate-500">issued by</span> {cert.issuer ?? "?"}
      {cert.notAfter && (
        <>
          {" "}
          <span className="text-slate-500">expires</span> {formatDay(cert.notAfter)}{" "}
          {expiry?.kind === "expired" && <span className="rounded bg-red-100 px-1 font-medium text-red-800">expired {expiry.days} days ago</span>}
          {expiry?.kind === "soon" && <span className="rounded bg-orange-100 px-1 font-medium text-orange-900">expires in {expiry.days} days</span>}
        </>
      )}
    </p>
  );
}

/** Rows: endpoints; columns: TLS 1.0-1.3 as last seen on the wire, with why and which cipher. */
export function ProtocolMatrix({ endpoints, now }: { endpoints: EndpointEvidence[]; now: Date }) {
  if (endpoints.length === 0) return <p className="text-sm text-slate-600">This host has no endpoints. Edit it to add ports to probe.</p>;
  return (
    <div className="overflow-x-auto">
      <table className="w-full min-w-[48rem] table-fixed border-separate border-spacing-0 text-sm" data-testid="protocol-matrix">
        <colgroup>
          <col className="w-32" />
          {TLS_VERSIONS.map((v) => (
            <col key={v} />
          ))}
          <col className="w-28" />
          <col className="w-44" />
        </colgroup>
        <thead>
          <tr className="text-left text-xs uppercase tracking-wide text-slate-500">
            <th scope="col" className="border-b border-slate-200 py-2 pr-3 font-medium">Endpoint</th>
            {TLS_VERSIONS.map((v) => (
              <th key={v} scope="col" className="border-b border-slate-200 px-1 py-2 text-center font-medium">{TLS_VERSION_LABEL[v]}</th>
            ))}
            <th scope="col" className="border-b border-slate-200 px-2 py-2 font-medium">STARTTLS</th>
            <th scope="col" className="border-b border-slate-200 py-2 pl-2 font-medium">Probed</th>
          </tr>
        </thead>
        {endpoints.map((e) => {
          const p = e.probe;
          const detail = Boolean(p?.certificate || p?.error);
          // The certificate and error line sits under the versions; the row border moves below it.
          const edge = detail ? "" : "border-b border-slate-100";
          return (
            <tbody key={e.id} data-testid={`endpoint-${e.port}`}>
              <tr className="align-top">
                <th scope="row" rowSpan={detail ? 2 : 1} className="border-b border-slate-100 py-2 pr-3 text-left font-medium">
                  {e.port}/{e.service}
                  <div className="text-xs font-normal text-slate-500">{e.tlsStart === "starttls" ? "STARTTLS" : "implicit TLS"}</div>
                </th>
                {TLS_VERSIONS.map((v) => {
                  if (!p) return <td key={v} className={`${edge} px-1 py-2 text-center text-xs text-slate-400`}>–</td>;
                  const c = p.protocols[v];
                  const why = c.reason ? `${TLS_VERSION_LABEL[v]} ${c.outcome}: ${c.reason}` : `${TLS_VERSION_LABEL[v]} ${c.outcome}${c.cipher ? ` with ${c.cipher}` : ""}`;
                  return (
                    <td key={v} className={`${edge} px-1 py-1 text-center`}>
                      <div className={`rounded px-1.5 py-1 ${cellStyle(v, c.outcome)}`} title={why} data-outcome={c.outcome}>
                        <div className="font-medium">{c.outcome}</div>
                        {c.outcome === "accepted" && c.cipher && <div className="break-all text-[11px] leading-tight opacity-80">{c.cipher}</div>}
                        {c.outcome !== "accepted" && c.reason && <div className="truncate text-[11px] opacity-80">{c.reason}</div>}
                      </div>
                    </td>
                  );
                })}
                <td className={`${edge} px-2 py-2 text-xs`}>
                  {p ? <span className={p.starttls === "not-offered" ? "font-semibold text-orange-800" : ""}>{STARTTLS_LABEL[p.starttls] ?? p.starttls}</span> : "–"}
                </td>
                <td className={`${edge} py-2 pl-2 text-xs text-slate-700`}>
                  {p ? (
                    <>
                      <div>{formatUtc(p.probedAt)}</div>
                      <div className="text-slate-500">verdict {p.verdict}</div>
                    </>
                  ) : (
                    <span className="text-slate-500">not probed yet</span>
                  )}
                </td>
              </tr>
              {p && detail && (
                <tr>
                  <td colSpan={TLS_VERSIONS.length + 2} className="border-b border-slate-100 px-1 pb-2">
                    {p.error && <p className="text-xs text-red-800">{p.error}</p>}
                    {p.certificate && <CertificateLine cert={p.certificate} now={now} />}
                  </td>
                </tr>
              )}
            </tbody>
          );
        })}
      </table>
    </div>
  );
}
