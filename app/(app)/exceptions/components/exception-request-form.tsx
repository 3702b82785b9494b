"use client";
import { useState, useTransition } from "react";
import { useRouter } from "next/navigation";
import { Button } from "@/app/_components/ui/button";
import { Alert } from "@/app/_components/ui/alert";
import { SelectField, TextField } from "@/app/_components/ui/field";
import { TLS_VERSION_LABEL, TLS_VERSIONS } from "@/lib/hosts/evidence";
import { requestExceptionAction } from "../actions";

/** Operator+: ask for an exception on this host (the server checks the role, the dates and the endpoint). */
export function ExceptionRequestForm({ hostId, ports, minDate, maxDate }: { hostId: string; ports: number[]; minDate: string; maxDate: string }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string; fields?: Record<string, string[]> } | null>(null);

  return (
    <form
      className="flex flex-col gap-3"
      aria-label="Request an exception"
      onSubmit={(e) => {
        e.preventDefault();
        const form = e.currentTarget;
        const data = Object.fromEntries(new FormData(form)) as Record<string, string>;
        startTransition(async () => {
          // The date picker's day ends at 23:59 UTC: "until 31 Jan" covers the 31st.
          const res = await requestExceptionAction({ ...data, hostId, justification: data.justification ?? "", expiresAt: data.expiresAt ? `${data.expiresAt}T23:59:00Z` : "" });
          setResult(res.ok ? { ok: true, text: res.message ?? "Requested" } : { ok: false, text: res.error, fields: res.fieldErrors });
          if (res.ok) {
            form.reset();
            router.refresh();
          }
        });
      }}
    >
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-3">
        <SelectField label="Endpoint" id="exception-endpoint" name="endpointPort" defaultValue="">
          <option value="">Every endpoint</option>
          {ports.map((p) => (
            <option key={p} value={p}>port {p}</option>
          ))}
        </SelectField>
        <SelectField label="TLS version" id="exception-version" name="version" defaultValue="">
          <option value="">Every version</option>
          {TLS_VERSIONS.map((v) => (
            <option key={v} value={v}>{TLS_VERSION_LABEL[v]}</option>
          ))}
        </SelectField>
        <TextField label="Expires (UTC day, at most a year ahead)" id="exception-expires" name="expiresAt" type="date" min={minDate} max={maxDate} required error={result?.fields?.expiresAt?.[0]} />
      </div>
      <div className="flex flex-col gap-1">
        <label htmlFor="exception-justification" className="text-sm font-medium text-slate-700">Justification</label>
        <textarea
          id="exception-justification"
          name="justification"
          required
          minLength={10}
          maxLength={2000}
          rows={3}
          placeholder="Why this host may keep the finding, and what replaces it when (a change number helps the auditor)"
          className="rounded-md border border-slate-300 px-3 py-1.5 text-sm shadow-sm focus:border-brand-600"
        />
      </div>
      <div>
        <Button type="submit" disabled={pending}>{pending ? "Requesting…" : "Request exception"}</Button>
      </div>
      {result && <Alert kind={result.ok ? "success" : "error"}>{result.text}</Alert>}
    </form>
  );
}
