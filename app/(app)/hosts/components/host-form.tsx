"use client";
// Add/edit a host. The endpoints field follows the role defaults (Exchange/Postfix: 25 and 587,
// web: 443, Dovecot: IMAP/POP3) until the user edits it; from then on it is exactly what they typed.
import { useRouter } from "next/navigation";
import { useMemo, useState, useTransition } from "react";
import { defaultEndpoints, HOST_ROLES, PLATFORMS, TRANSPORTS } from "@/lib/inventory/model";
import { Button } from "@/app/_components/ui/button";
import { SelectField, TextField } from "@/app/_components/ui/field";
import { Alert } from "@/app/_components/ui/alert";
import { createHostAction, updateHostAction } from "../actions";
import { CREDENTIAL_DETACHED_PARAM } from "./links";

export interface HostFormValues {
  id?: string;
  name: string;
  address: string;
  platform: string;
  roles: string[];
  tags: string[];
  group: string;
  owner: string;
  transport: string;
  port: string;
  credentialName: string;
  endpoints: string;
}

export const EMPTY_HOST: HostFormValues = { name: "", address: "", platform: "linux", roles: [], tags: [], group: "", owner: "", transport: "none", port: "", credentialName: "", endpoints: "" };

const formatEndpoints = (roles: string[]) => defaultEndpoints(roles).map((e) => `${e.port}/${e.service}`).join(";");

export function HostForm({ initial, credentials, canAttachCredential }: { initial: HostFormValues; credentials: Array<{ name: string; kind: string }>; canAttachCredential: boolean }) {
  const router = useRouter();
  const editing = Boolean(initial.id);
  const [roles, setRoles] = useState<string[]>(initial.roles);
  const [endpoints, setEndpoints] = useState(initial.endpoints || formatEndpoints(initial.roles));
  // Editing a host whose endpoints differ from its role defaults: keep them, do not follow roles.
  const [endpointsEdited, setEndpointsEdited] = useState(editing && initial.endpoints !== formatEndpoints(initial.roles));
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<{ text: string; fields: Record<string, string[]> } | null>(null);
  const defaults = useMemo(() => formatEndpoints(roles), [roles]);

  function toggleRole(role: string) {
    const next = roles.includes(role) ? roles.filter((r) => r !== role) : [...roles, role];
    setRoles(next);
    if (!endpointsEdited) setEndpoints(formatEndpoints(next));
  }

  function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const input = {
      name: String(f.get("name") ?? ""),
      address: String(f.get("address") ?? ""),
      platform: String(f.get("platform") ?? "other") as "other",
      roles,
      tags: String(f.get("tags") ?? ""),
      group: String(f.get("group") ?? ""),
      owner: String(f.get("owner") ?? ""),
      transport: String(f.get("transport") ?? "none") as "none",
      port: String(f.get("port") ?? ""),
      credentialName: String(f.get("credentialName") ?? ""),
      endpoints,
    };
    setError(null);
    startTransition(async () => {
      const res = initial.id ? await updateHostAction({ ...input, id: initial.id }) : await createHostAction(input);
      if (!res.ok) {
        setError({ text: res.error, fields: res.fieldErrors ?? {} });
        return;
      }
      // The host page says so when an operator's change detached the credential (lib/inventory/custody.ts).
      const detached = res.data && "credentialDropped" in res.data && res.data.credentialDropped;
      router.push(`/hosts/${res.data?.id ?? ""}${detached ? `?${CREDENTIAL_DETACHED_PARAM}` : ""}`);
      router.refresh();
    });
  }

  const fieldError = (k: string) => error?.fields[k]?.[0];

  return (
    <form onSubmit={onSubmit} aria-label={editing ? "Edit host" : "Add a host"} className="flex max-w-3xl flex-col gap-5" noValidate>
      {error && <Alert kind="error">{error.text}</Alert>}
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField label="Name" id="host-name" name="name" defaultValue={initial.name} required autoComplete="off" placeholder="mx1.example.com" error={fieldError("name")} />
        <TextField label="Address (DNS name or IP)" id="host-address" name="address" defaultValue={initial.address} required autoComplete="off" placeholder="192.0.2.10" error={fieldError("address")} />
        <SelectField label="Platform" id="host-platform" name="platform" defaultValue={initial.platform}>
          {PLATFORMS.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </SelectField>
        <div className="grid grid-cols-2 gap-3">
          <SelectField label="Remote access" id="host-transport" name="transport" defaultValue={initial.transport}>
            {TRANSPORTS.map((t) => (
              <option key={t} value={t}>
                {t === "none" ? "none (probe only)" : t}
              </option>
            ))}
          </SelectField>
          <TextField label="Port" id="host-port" name="port" inputMode="numeric" defaultValue={initial.port} placeholder="22 / 5986" error={fieldError("port")} />
        </div>
      </div>

      <fieldset className="flex flex-col gap-2">
        <legend className="text-sm font-medium text-slate-700">Roles</legend>
        <div className="flex flex-wrap gap-x-5 gap-y-2">
          {HOST_ROLES.map((r) => (
            <label key={r} className="inline-flex items-center gap-2 text-sm">
              <input type="checkbox" checked={roles.includes(r)} onChange={() => toggleRole(r)} className="h-4 w-4" />
              {r}
            </label>
          ))}
        </div>
        {fieldError("roles") && <p className="text-xs text-red-700">{fieldError("roles")}</p>}
      </fieldset>

      <div className="flex flex-col gap-1">
        <TextField
          label="Endpoints (PORT/SERVICE, separated by ;)"
          id="host-endpoints"
          name="endpoints"
          value={endpoints}
          onChange={(e) => {
            setEndpoints(e.target.value);
            setEndpointsEdited(true);
          }}
          placeholder="25/smtp;587/submission"
          error={fieldError("endpoints")}
          aria-describedby={fieldError("endpoints") ? "host-endpoints-error host-endpoints-help" : "host-endpoints-help"}
        />
        <p id="host-endpoints-help" className="text-xs text-slate-600">
          {endpointsEdited ? (
            <>
              Exactly these endpoints are probed.{" "}
              {endpoints !== defaults && (
                <button
                  type="button"
                  className="text-brand-600 underline"
                  onClick={() => {
                    setEndpoints(defaults);
                    setEndpointsEdited(false);
                  }}
                >
                  Use the role defaults{defaults ? ` (${defaults})` : ""}
                </button>
              )}
            </>
          ) : (
            <>Follows the roles you tick; edit it to probe other ports.</>
          )}
        </p>
      </div>

      <div className="grid gap-4 sm:grid-cols-3">
        <TextField label="Tags (separated by ;)" id="host-tags" name="tags" defaultValue={initial.tags.join(";")} placeholder="prod;eu" error={fieldError("tags")} />
        <TextField label="Group / site" id="host-group" name="group" defaultValue={initial.group} error={fieldError("group")} />
        <TextField label="Owner" id="host-owner" name="owner" defaultValue={initial.owner} error={fieldError("owner")} />
      </div>

      <SelectField label="Credential" id="host-credential" name="credentialName" defaultValue={initial.credentialName}>
        <option value="">None</option>
        {credentials.map((c) => (
          <option key={c.name} value={c.name}>
            {c.name} ({c.kind.replace("_", " ")})
          </option>
        ))}
      </SelectField>
      {!canAttachCredential && (
        <p className="-mt-3 text-xs text-slate-600" id="host-credential-rule">
          Only an admin attaches a credential. If you change the address, transport, port or credential of a host that has one, the host keeps no credential until an admin attaches it again.
        </p>
      )}

      <div className="flex gap-2">
        <Button type="submit" disabled={pending}>
          {pending ? "Saving…" : editing ? "Save host" : "Add host"}
        </Button>
        <Button type="button" variant="secondary" onClick={() => router.back()} disabled={pending}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
