"use client";
// The rollout request form: goals and settings (defaults from RolloutSettings), for a target the
// page resolved from the host list's selection. Submitting only makes the plan (a dry run per
// host) and opens the rollout's page, where the plan appears and waits for approval.
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import type { JobTargetValue } from "@/lib/jobs/create";
import { GOAL_LABEL, REBOOT_POLICIES, ROLLOUT_GOALS, RolloutSettings, type RebootPolicy, type RolloutGoal } from "@/lib/rollout/settings";
import { Alert } from "@/app/_components/ui/alert";
import { Button } from "@/app/_components/ui/button";
import { SelectField, TextField } from "@/app/_components/ui/field";
import { requestRolloutAction } from "../actions";

const DEFAULTS = RolloutSettings.parse({});

const GOAL_HELP: Record<RolloutGoal, string> = {
  "enable-tls12": "Turn TLS 1.2 on where it is off or not configured.",
  "disable-legacy": "Turn TLS 1.0 and 1.1 off; clients that only speak those will no longer connect.",
};

const REBOOT_HELP: Record<RebootPolicy, { label: string; help: string }> = {
  never: { label: "Do not restart", help: "A host whose change needs a restart (Windows SCHANNEL) ends “Pending reboot” until its owner restarts it." },
  now: { label: "Restart when needed", help: "The host is restarted right after its change, and verified once it is back." },
  window: { label: "Restart in a maintenance window", help: "The change is applied at once; the restart waits until the window below is open, and the wave waits with it." },
};

// Monday first, as ops calendars are; values are JavaScript's getDay() (0 = Sunday).
const DAY_ORDER = [1, 2, 3, 4, 5, 6, 0];
const DAY_LABEL = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const browserTimeZone = () => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
};

/** A number field's value, NaN when empty (zod then names the field instead of reading 0). */
const num = (f: FormData, name: string) => {
  const v = String(f.get(name) ?? "").trim();
  return v === "" ? Number.NaN : Number(v);
};

/** A field's help text and, when there is one, its error (TextField's own describedby is replaced by ours). */
const describedBy = (id: string, help: string, error: string | undefined) => (error ? `${help} ${id}-error` : help);

export function RequestRolloutForm({ target, targetLabel }: { target: JobTargetValue; targetLabel: string }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<{ text: string; fields: Record<string, string[]> } | null>(null);
  const [waveUnit, setWaveUnit] = useState<"percent" | "count">(DEFAULTS.wave.kind);
  const [rebootPolicy, setRebootPolicy] = useState<RebootPolicy>(DEFAULTS.rebootPolicy);

  function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const goals = f.getAll("goals").map(String) as RolloutGoal[];
    const waveSize = num(f, "waveSize");
    const input = {
      target,
      goals,
      settings: {
        canarySize: num(f, "canarySize"),
        wave: waveUnit === "percent" ? { kind: "percent" as const, percent: waveSize } : { kind: "count" as const, size: waveSize },
        budget: { percent: num(f, "budgetPercent"), absolute: num(f, "budgetAbsolute") },
        rebootPolicy,
        maintenanceWindow:
          rebootPolicy === "window"
            ? { days: f.getAll("windowDays").map(Number), start: String(f.get("windowStart") ?? ""), durationMinutes: num(f, "windowMinutes"), timeZone: String(f.get("windowTimeZone") ?? "").trim() }
            : null,
        rollbackOnFailure: f.get("rollbackOnFailure") === "on",
        maxConcurrency: num(f, "maxConcurrency"),
        rebootTimeoutSeconds: num(f, "rebootTimeoutSeconds"),
      },
    };
    setError(null);
    startTransition(async () => {
      const res = await requestRolloutAction(input);
      if (!res.ok) {
        setError({ text: res.error, fields: res.fieldErrors ?? {} });
        return;
      }
      router.push(`/rollouts/${res.data?.rolloutId ?? ""}`);
    });
  }

  const fieldError = (...keys: string[]) => keys.map((k) => error?.fields[k]?.[0]).find(Boolean);
  const waveKey = waveUnit === "percent" ? "settings.wave.percent" : "settings.wave.size";

  return (
    <form onSubmit={onSubmit} aria-label="Request a rollout" className="flex max-w-3xl flex-col gap-5">
      {error && <Alert kind="error">{error.text}</Alert>}

      <p className="text-sm text-slate-700">
        Hosts: <span className="font-medium text-slate-900" data-testid="rollout-target">{targetLabel}</span>
      </p>

      <fieldset className="flex flex-col gap-2 rounded-lg border border-slate-200 bg-white p-4">
        <legend className="px-1 text-sm font-semibold text-slate-800">Goals</legend>
        {ROLLOUT_GOALS.map((g) => (
          <div key={g} className="flex items-start gap-2 text-sm">
            <input type="checkbox" id={`goal-${g}`} name="goals" value={g} defaultChecked className="mt-0.5 h-4 w-4" aria-describedby={`goal-${g}-help`} />
            <div>
              <label htmlFor={`goal-${g}`} className="font-medium text-slate-900">{GOAL_LABEL[g]}</label>
              <p id={`goal-${g}-help`} className="text-xs text-slate-600">{GOAL_HELP[g]}</p>
            </div>
          </div>
        ))}
        {fieldError("goals") && <p className="text-xs text-red-700">{fieldError("goals")}</p>}
      </fieldset>

      <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-2">
        <legend className="px-1 text-sm font-semibold text-slate-800">Waves</legend>
        <div>
          <TextField label="Canary hosts" id="canarySize" name="canarySize" type="number" min={0} max={100} step={1} required defaultValue={DEFAULTS.canarySize} error={fieldError("settings.canarySize")} aria-describedby={describedBy("canarySize", "canarySize-help", fieldError("settings.canarySize"))} />
          <p id="canarySize-help" className="mt-1 text-xs text-slate-600">Changed first, on their own; the rest waits until they verify. 0: no canary.</p>
        </div>
        <div className="flex items-end gap-2">
          <div className="flex-1">
            <TextField
              key={waveUnit}
              label={waveUnit === "percent" ? "Each further wave (% of hosts)" : "Each further wave (hosts)"}
              id="waveSize"
              name="waveSize"
              type="number"
              min={1}
              max={waveUnit === "percent" ? 100 : 10_000}
              step={waveUnit === "percent" ? "any" : 1}
              required
              defaultValue={waveUnit === "percent" ? (DEFAULTS.wave.kind === "percent" ? DEFAULTS.wave.percent : 25) : 10}
              error={fieldError(waveKey)}
            />
          </div>
          <SelectField label="Wave size in" id="waveUnit" value={waveUnit} onChange={(e) => setWaveUnit(e.target.value as "percent" | "count")}>
            <option value="percent">percent</option>
            <option value="count">hosts</option>
          </SelectField>
        </div>
      </fieldset>

      <fieldset className="flex flex-col gap-2 rounded-lg border border-slate-200 bg-white p-4">
        <legend className="px-1 text-sm font-semibold text-slate-800">Failure budget</legend>
        <p id="budget-help" className="text-xs text-slate-600">
          The rollout halts as soon as failed hosts (unreachable ones included) exceed either limit, whichever is stricter; hosts not started then stay untouched.
        </p>
        <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
          <TextField label="Failed hosts allowed (% of hosts)" id="budgetPercent" name="budgetPercent" type="number" min={0} max={100} step="any" required defaultValue={DEFAULTS.budget.percent} error={fieldError("settings.budget.percent")} aria-describedby={describedBy("budgetPercent", "budget-help", fieldError("settings.budget.percent"))} />
          <TextField label="Failed hosts allowed (at most)" id="budgetAbsolute" name="budgetAbsolute" type="number" min={0} step={1} required defaultValue={DEFAULTS.budget.absolute} error={fieldError("settings.budget.absolute")} aria-describedby={describedBy("budgetAbsolute", "budget-help", fieldError("settings.budget.absolute"))} />
        </div>
      </fieldset>

      <fieldset className="flex flex-col gap-3 rounded-lg border border-slate-200 bg-white p-4">
        <legend className="px-1 text-sm font-semibold text-slate-800">Restarts and failures</legend>
        <div role="radiogroup" aria-label="Reboot policy" className="flex flex-col gap-2">
          {REBOOT_POLICIES.map((p) => (
            <div key={p} className="flex items-start gap-2 text-sm">
              <input type="radio" id={`reboot-${p}`} name="rebootPolicy" value={p} checked={p === rebootPolicy} onChange={() => setRebootPolicy(p)} className="mt-0.5 h-4 w-4" aria-describedby={`reboot-${p}-help`} />
              <div>
                <label htmlFor={`reboot-${p}`} className="font-medium text-slate-900">{REBOOT_HELP[p].label}</label>
                <p id={`reboot-${p}-help`} className="text-xs text-slate-600">{REBOOT_HELP[p].help}</p>
              </div>
            </div>
          ))}
        </div>
        {rebootPolicy === "window" && (
          <fieldset className="ml-6 flex flex-col gap-3 rounded-md border border-slate-200 p-3" aria-describedby="window-help">
            <legend className="px-1 text-sm font-medium text-slate-800">Maintenance window</legend>
            <p id="window-help" className="text-xs text-slate-600">Restarts start only while the window is open, in the window’s own time zone (daylight saving included).</p>
            <div className="flex flex-wrap gap-3" role="group" aria-label="Days">
              {DAY_ORDER.map((d) => (
                <label key={d} className="flex items-center gap-1 text-sm text-slate-800">
                  <input type="checkbox" name="windowDays" value={d} defaultChecked={d >= 1 && d <= 5} className="h-4 w-4" />
                  {DAY_LABEL[d]}
                </label>
              ))}
            </div>
            {fieldError("settings.maintenanceWindow.days", "settings.maintenanceWindow") && <p className="text-xs text-red-700">{fieldError("settings.maintenanceWindow.days", "settings.maintenanceWindow")}</p>}
            <div className="grid grid-cols-1 gap-4 sm:grid-cols-3">
              <TextField label="Opens at" id="windowStart" name="windowStart" type="time" required defaultValue="22:00" error={fieldError("settings.maintenanceWindow.start")} />
              <TextField label="Lasts (minutes)" id="windowMinutes" name="windowMinutes" type="number" min={15} max={1440} step={1} required defaultValue={180} error={fieldError("settings.maintenanceWindow.durationMinutes")} />
              <TextField label="Time zone" id="windowTimeZone" name="windowTimeZone" required defaultValue={browserTimeZone()} error={fieldError("settings.maintenanceWindow.timeZone")} />
            </div>
          </fieldset>
        )}
        <div className="flex items-start gap-2 text-sm">
          <input type="checkbox" id="rollbackOnFailure" name="rollbackOnFailure" defaultChecked={DEFAULTS.rollbackOnFailure} className="mt-0.5 h-4 w-4" aria-describedby="rollbackOnFailure-help" />
          <div>
            <label htmlFor="rollbackOnFailure" className="font-medium text-slate-900">Roll back a host at once when it fails verification</label>
            <p id="rollbackOnFailure-help" className="text-xs text-slate-600">Its prior values are restored and checked on the wire. Otherwise it stays as it is, for you to inspect or roll back.</p>
          </div>
        </div>
        <details>
          <summary className="cursor-pointer text-sm text-slate-700">More settings</summary>
          <div className="mt-3 grid grid-cols-1 gap-4 sm:grid-cols-2">
            <TextField label="Hosts worked on at once" id="maxConcurrency" name="maxConcurrency" type="number" min={1} max={64} step={1} required defaultValue={DEFAULTS.maxConcurrency} error={fieldError("settings.maxConcurrency")} />
            <TextField label="Restart timeout (seconds)" id="rebootTimeoutSeconds" name="rebootTimeoutSeconds" type="number" min={10} max={3600} step={1} required defaultValue={DEFAULTS.rebootTimeoutSeconds} error={fieldError("settings.rebootTimeoutSeconds")} />
          </div>
        </details>
      </fieldset>

      <div className="flex items-center gap-3">
        <Button type="submit" disabled={pending}>{pending ? "Making the plan…" : "Make the plan"}</Button>
        <p className="text-xs text-slate-600">Nothing on any host changes yet: each host is checked read-only, and the plan waits for an admin’s approval.</p>
      </div>
    </form>
  );
}
