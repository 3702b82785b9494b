"use client";
import { useState } from "react";
import { Alert } from "@/app/_components/ui/alert";
import { Button } from "@/app/_components/ui/button";
import { SelectField, TextField } from "@/app/_components/ui/field";
import { useActionForm } from "@/app/_components/use-action-form";
import { saveScanSettingsAction } from "../actions";

const PRESETS = ["off", "hourly", "daily", "weekly"] as const;

interface Values {
  rescanSchedule: string;
  driftWebhookUrl: string;
  allowedTargets: string;
}

export function ScanSettingsForm({ initial, envAllowedTargets, currentCron }: { initial: Values; envAllowedTargets: string | null; currentCron: string | null }) {
  const isPreset = (PRESETS as readonly string[]).includes(initial.rescanSchedule);
  const [mode, setMode] = useState<string>(isPreset ? initial.rescanSchedule : "cron");
  const [cron, setCron] = useState(isPreset ? "" : initial.rescanSchedule);
  const [webhook, setWebhook] = useState(initial.driftWebhookUrl);
  const [targets, setTargets] = useState(initial.allowedTargets);
  const form = useActionForm({
    read: () => ({ rescanSchedule: mode === "cron" ? cron : mode, driftWebhookUrl: webhook, allowedTargets: targets }),
    action: saveScanSettingsAction,
    done: (_input, data) => {
      const changed = data?.changed ?? [];
      return changed.length ? `Saved (${changed.length} setting${changed.length === 1 ? "" : "s"} changed)${data?.cron ? `; rescans run at cron "${data.cron}" (UTC)` : ""}` : "Nothing changed";
    },
    reset: false,
  });
  const err = form.fieldError;

  return (
    <form onSubmit={form.onSubmit} className="flex max-w-2xl flex-col gap-5" aria-label="Scan settings">
      <fieldset className="flex flex-col gap-2">
        <legend className="mb-1 text-sm font-semibold text-slate-800">Scheduled rescans</legend>
        <p className="text-xs text-slate-600">Every host is scanned on this schedule (UTC), requested by &quot;system&quot;. A run is skipped while the previous scheduled scan is still going.{currentCron ? ` Now: ${currentCron}.` : " Now: off."}</p>
        <SelectField label="Schedule" id="rescan-mode" value={mode} onChange={(e) => setMode(e.target.value)}>
          <option value="off">Off</option>
          <option value="hourly">Hourly (at minute 0)</option>
          <option value="daily">Daily (03:00 UTC)</option>
          <option value="weekly">Weekly (Monday 03:00 UTC)</option>
          <option value="cron">Custom cron expression</option>
        </SelectField>
        {mode === "cron" && (
          <TextField label="Cron expression (minute hour day month weekday)" id="rescan-cron" value={cron} onChange={(e) => setCron(e.target.value)} placeholder="30 2 * * 1-5" required error={err("rescanSchedule")} />
        )}
        {mode !== "cron" && err("rescanSchedule") && <p className="text-xs text-red-700">{err("rescanSchedule")}</p>}
      </fieldset>

      <fieldset className="flex flex-col gap-2">
        <legend className="mb-1 text-sm font-semibold text-slate-800">Drift webhook</legend>
        <p className="text-xs text-slate-600">When a compliant host starts failing (for example TLS 1.0 accepted again), tlsfleet POSTs a JSON event here. Leave empty for none. Failures are logged and never hold up a scan.</p>
        <TextField label="Webhook URL" id="drift-webhook" type="url" value={webhook} onChange={(e) => setWebhook(e.target.value)} placeholder="https://hooks.example.com/tlsfleet" error={err("driftWebhookUrl")} />
      </fieldset>

      <fieldset className="flex flex-col gap-2">
        <legend className="mb-1 text-sm font-semibold text-slate-800">Allowed targets</legend>
        <p className="text-xs text-slate-600">
          Scans, config audits and the drift webhook only connect to addresses inside these CIDRs (one per line); a host name must resolve only to such addresses, and when DNS suffixes are listed it must also be under one of them. Loopback, link-local, cloud metadata addresses and the database host stay refused unless a range inside them is listed. Anything else is refused and recorded in the audit log.
          {envAllowedTargets ? ` When empty, the server's TLSFLEET_ALLOWED_TARGETS applies: ${envAllowedTargets}.` : " When empty and TLSFLEET_ALLOWED_TARGETS is not set, every target is refused."}
        </p>
        <label htmlFor="allowed-targets" className="text-sm font-medium text-slate-700">Ranges and suffixes</label>
        <textarea
          id="allowed-targets"
          value={targets}
          onChange={(e) => setTargets(e.target.value)}
          rows={6}
          placeholder={"10.0.0.0/8\nmail.example.com"}
          aria-invalid={err("allowedTargets") ? true : undefined}
          aria-describedby={err("allowedTargets") ? "allowed-targets-error" : undefined}
          className="rounded-md border border-slate-300 px-3 py-1.5 font-mono text-sm shadow-sm"
        />
        {err("allowedTargets") && <p id="allowed-targets-error" className="text-xs text-red-700">{err("allowedTargets")}</p>}
      </fieldset>

      <div className="flex items-center gap-3">
        <Button type="submit" disabled={form.pending}>{form.pending ? "Saving…" : "Save"}</Button>
      </div>
      {form.result && <Alert kind={form.result.ok ? "success" : "error"}>{form.result.text}</Alert>}
    </form>
  );
}
