"use client";
import { useState, useTransition } from "react";
import { useRouter } from "next/navigation";
import { Alert } from "@/app/_components/ui/alert";
import { setHostTrustAction } from "../actions";

type Setting = "trustOnFirstUse" | "allowWinrmHttp" | "legacyTls";

const LABELS: Record<Setting, { label: string; hint: string }> = {
  trustOnFirstUse: { label: "Trust on first use", hint: "The next contact pins whatever key the host presents, without a confirmation; from then on only that key is accepted." },
  allowWinrmHttp: { label: "Allow WinRM over HTTP (5985)", hint: "No certificate to check: the credential goes to whatever answers at this address. Use only on a trusted network." },
  legacyTls: { label: "Allow TLS 1.0/1.1 for WinRM", hint: "For hosts whose WinRM listener speaks nothing newer yet (the problem this tool fixes)." },
};

/** Admin only (the server refuses anyone else): the host's identity decisions, one checkbox each. */
export function HostTrustControls({ hostId, transport, values }: { hostId: string; transport: string; values: Record<Setting, boolean> }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const settings: Setting[] = transport === "winrm" ? ["trustOnFirstUse", "allowWinrmHttp", "legacyTls"] : ["trustOnFirstUse"];

  const change = (setting: Setting, enabled: boolean) =>
    startTransition(async () => {
      const res = await setHostTrustAction({ hostId, setting, enabled });
      setResult(res.ok ? { ok: true, text: `${LABELS[setting].label}: ${enabled ? "on" : "off"}` } : { ok: false, text: res.error });
      if (res.ok) router.refresh();
    });

  return (
    <fieldset className="flex flex-col gap-2" data-testid="host-trust-controls" disabled={pending}>
      <legend className="text-xs font-medium uppercase tracking-wide text-slate-500">Admin decisions</legend>
      {settings.map((s) => (
        <div key={s} className="flex items-start gap-2">
          <input id={`host-${s}`} type="checkbox" className="mt-1" defaultChecked={values[s]} aria-describedby={`host-${s}-hint`} onChange={(e) => change(s, e.currentTarget.checked)} />
          <div>
            <label htmlFor={`host-${s}`} className="text-sm font-medium">
              {LABELS[s].label}
            </label>
            <p id={`host-${s}-hint`} className="text-xs text-slate-600">
              {LABELS[s].hint}
            </p>
          </div>
        </div>
      ))}
      {result && <Alert kind={result.ok ? "success" : "error"}>{result.text}</Alert>}
    </fieldset>
  );
}
