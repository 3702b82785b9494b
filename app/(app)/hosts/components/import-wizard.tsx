"use client";
// Upload -> preview (nothing written) -> commit (all rows or none). The file chosen for the
// preview is sent again for the commit, with the hash the server computed for it, so the server
// imports exactly the file the user looked at (a file changed on disk since is refused) and
// re-validates it from scratch. Both requests show their progress: the upload's from XHR, the
// server's (rows read, checked, written) from the NDJSON lines it streams back
// (lib/http/progress-stream.ts). The file is sent as the File itself, never read into the page.
import Link from "next/link";
import { useRef, useState } from "react";
import type { ImportIssue, ImportPreview, ImportProgress, ImportResult } from "@/lib/inventory/import";
import { IMPORT_COLUMNS } from "@/lib/inventory/import-rows";
import { Button } from "@/app/_components/ui/button";
import { Alert } from "@/app/_components/ui/alert";

const ENDPOINT = "/api/v1/hosts/import";
const n = (x: number) => x.toLocaleString("en");
const plural = (x: number, word: string) => `${n(x)} ${word}${x === 1 ? "" : "s"}`;

type Progress = { sent: number; size: number; server: ImportProgress | null };

/** POSTs the file and follows the server's progress lines; resolves with the answer the last line carries. */
function post(url: string, file: File, onProgress: (p: Progress) => void): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const progress: Progress = { sent: 0, size: file.size, server: null };
    let read = 0;
    let done: { status: number; body: Record<string, unknown> | null } | null = null;
    const drain = () => {
      const text = xhr.responseText;
      for (let nl = text.indexOf("\n", read); nl >= 0; nl = text.indexOf("\n", read)) {
        const line = text.slice(read, nl);
        read = nl + 1;
        if (!line || !(xhr.getResponseHeader("content-type") ?? "").startsWith("application/x-ndjson")) continue;
        const msg = JSON.parse(line) as { progress?: ImportProgress; done?: true; status: number; body: Record<string, unknown> | null };
        if (msg.done) done = msg;
        else if (msg.progress) onProgress({ ...progress, server: (progress.server = msg.progress) });
      }
    };
    xhr.open("POST", url);
    xhr.setRequestHeader("content-type", "text/csv");
    xhr.setRequestHeader("accept", "application/x-ndjson");
    xhr.upload.onprogress = (e) => onProgress({ ...progress, sent: (progress.sent = e.loaded) });
    xhr.onprogress = drain;
    xhr.onload = () => {
      drain();
      if (done) return resolve({ status: done.status, json: done.body ?? {} });
      // Answered before any streaming (signed out, too large): a plain problem+json.
      try {
        resolve({ status: xhr.status, json: JSON.parse(xhr.responseText) });
      } catch {
        resolve({ status: xhr.status, json: { error: `The server answered ${xhr.status} without details` } });
      }
    };
    xhr.onerror = () => reject(new Error("network"));
    xhr.send(file);
  });
}

export function ImportWizard() {
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<"preview" | "commit" | null>(null);

  async function onFile(e: React.ChangeEvent<HTMLInputElement>) {
    const f = e.target.files?.[0];
    // Cleared so choosing the same (now fixed) file again fires another change event.
    e.target.value = "";
    if (!f) return;
    setPreview(null);
    setResult(null);
    setError(null);
    setBusy("preview");
    setProgress(null);
    try {
      setFile(f);
      const { status, json } = await post(`${ENDPOINT}?mode=preview`, f, setProgress);
      if (status !== 200) setError(String(json.error ?? `Preview failed (${status})`));
      else setPreview(json as unknown as ImportPreview);
    } catch {
      setError("The file could not be read or sent. Check the connection and choose it again.");
    } finally {
      setBusy(null);
      setProgress(null);
    }
  }

  async function commit() {
    if (!file || !preview) return;
    setBusy("commit");
    setError(null);
    setProgress(null);
    try {
      const { status, json } = await post(`${ENDPOINT}?mode=commit&sha256=${preview.sha256}`, file, setProgress);
      if (status === 200) {
        setResult(json as unknown as ImportResult);
        setPreview(null);
      } else {
        setError(String(json.error ?? `Import failed (${status})`));
        if (status === 422 && json.preview) setPreview(json.preview as ImportPreview);
      }
    } catch {
      setError("The import could not be sent. Nothing was imported; try again.");
    } finally {
      setBusy(null);
      setProgress(null);
    }
  }

  const blocked = preview ? preview.issueCount > 0 : true;

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
        <div className="flex flex-col gap-1">
          <label htmlFor="csv-file" className="text-sm font-medium text-slate-700">
            CSV file
          </label>
          <input
            ref={input}
            id="csv-file"
            type="file"
            accept=".csv,text/csv"
            onChange={onFile}
            disabled={busy !== null}
            className="text-sm file:mr-3 file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-medium hover:file:bg-slate-100"
          />
        </div>
        {busy === "preview" && <span role="status" className="text-sm text-slate-600">Checking {file?.name ?? "the file"}…</span>}
        <p className="basis-full text-xs text-slate-600">Nothing is imported until you confirm the preview. Choose the file again after fixing it.</p>
      </div>

      {busy && progress && <ImportProgressView progress={progress} busy={busy} />}

      {error && <Alert kind="error">{error}</Alert>}

      {result && (
        <div role="status" className="flex flex-col gap-2 rounded-lg border border-green-300 bg-green-50 p-4 text-sm text-green-900">
          <p className="text-base font-semibold">Imported {plural(result.rows, "host")}.</p>
          <p>
            {n(result.created)} new, {n(result.updated)} updated, {n(result.unchanged)} unchanged. Endpoints: {n(result.endpointsAdded)} added, {n(result.endpointsUpdated)} changed, {n(result.endpointsRemoved)} removed.
            New hosts show as <em>Unknown</em> until they are scanned.
          </p>
          {result.credentialsDropped > 0 && (
            <p data-testid="import-credentials-dropped">
              {plural(result.credentialsDropped, "host")} no longer {result.credentialsDropped === 1 ? "has its" : "have their"} credential: an admin attaches it again on each host&apos;s edit page.
            </p>
          )}
          <p>
            <Link href="/hosts" className="font-medium underline">
              View the hosts
            </Link>
          </p>
        </div>
      )}

      {preview && file && !busy && <PreviewView preview={preview} fileName={file.name} />}

      {preview && (
        <div className="flex flex-wrap items-center gap-3">
          <Button type="button" onClick={commit} disabled={blocked || busy !== null} aria-describedby="commit-help">
            {busy === "commit" ? "Importing…" : `Import ${plural(preview.validCount, "host")}`}
          </Button>
          <span id="commit-help" className="text-sm text-slate-600">
            {blocked ? "Fix the problems above in the file and choose it again: a file with problems imports nothing." : "All rows are imported together, or none are."}
          </span>
        </div>
      )}
    </div>
  );
}

/** Upload, then the server's reading, checking and writing, as one bar with the step in words. */
function ImportProgressView({ progress, busy }: { progress: Progress; busy: "preview" | "commit" }) {
  const p = progress.server;
  const uploaded = progress.size ? progress.sent / progress.size : 0;
  // The bytes the server has read bound the reading phase; writing has its own count.
  const fraction = p?.phase === "writing" ? (p.toWrite ? p.written / p.toWrite : 1) : p ? Math.min(p.bytes / Math.max(progress.size, 1), uploaded || 1) : uploaded;
  const words = !p
    ? `Uploading ${(progress.sent / 2 ** 20).toFixed(1)} of ${(progress.size / 2 ** 20).toFixed(1)} MiB`
    : p.phase === "reading"
      ? `Reading and checking: ${plural(p.rows, "row")} read, ${n(p.validated)} checked, ${plural(p.problems, "problem")}`
      : p.phase === "checking"
        ? `Checking the whole file (${plural(p.rows, "row")}) for repeated names`
        : `Writing: ${n(p.written)} of ${plural(p.toWrite, "host")}`;
  const percent = Math.round(Math.min(fraction, 1) * 100);
  return (
    <div role="status" className="flex flex-col gap-2 rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm" data-testid="import-progress">
      <span>
        <span className="font-medium">{busy === "commit" ? "Importing" : "Checking"}</span>
        <span className="text-slate-600"> · {words}</span>
      </span>
      <div role="progressbar" aria-label="Import progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} aria-valuetext={words} className="h-3 w-full overflow-hidden rounded-full bg-slate-100">
        <div className="h-full bg-blue-500" style={{ width: `${percent}%` }} />
      </div>
      {busy === "commit" && <p className="text-xs text-slate-600">All rows are written together at the end, or none are: leaving this page now does not leave half an import.</p>}
    </div>
  );
}

function PreviewView({ preview, fileName }: { preview: ImportPreview; fileName: string }) {
  const columns = preview.columns.length ? preview.columns : [...IMPORT_COLUMNS];
  const ok = preview.issueCount === 0;
  return (
    <section aria-label="Import preview" className="flex flex-col gap-3">
      <div className={`rounded-lg border p-4 text-sm ${ok ? "border-blue-300 bg-blue-50 text-blue-900" : "border-red-300 bg-red-50 text-red-900"}`} data-testid="import-summary">
        <p className="text-base font-semibold">
          {fileName}: {plural(preview.rowCount, "row")}
        </p>
        {ok ? (
          <p>
            Ready: {n(preview.creates)} new, {n(preview.updates)} to update (matched by name). Nothing has been imported yet.
          </p>
        ) : (
          <p>
            {plural(preview.issueCount, "problem")} in {plural(Math.max(preview.badRowCount, 1), "row")}. Nothing will be imported until the file is fixed.
          </p>
        )}
      </div>

      {preview.warnings.length > 0 && <IssueTable issues={preview.warnings} total={preview.credentialsDropped} kind="warning" />}

      {!ok && <IssueTable issues={preview.issues} total={preview.issueCount} kind="problem" />}

      {preview.rows.length > 0 && (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
          <table className="w-full text-left text-xs" aria-label="Rows">
            <caption className="px-3 py-2 text-left text-sm font-semibold text-slate-800">
              Rows {preview.rows.length < preview.rowCount && <span className="font-normal text-slate-600">(rows with problems first, then the first valid rows; {n(preview.rows.length)} of {n(preview.rowCount)})</span>}
            </caption>
            <thead className="bg-slate-50 uppercase text-slate-500">
              <tr>
                <th scope="col" className="px-2 py-1.5">Line</th>
                <th scope="col" className="px-2 py-1.5">Action</th>
                {columns.map((c) => (
                  <th key={c} scope="col" className="px-2 py-1.5">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {preview.rows.map((r) => {
                const bad = new Set(r.issues.map((i) => i.column));
                return (
                  <tr key={r.line} data-testid={`preview-row-${r.line}`} className={r.issues.length ? "bg-red-50/60" : r.warnings.length ? "bg-amber-50/60" : ""} title={r.warnings.map((w) => w.reason).join("; ") || undefined}>
                    <td className="px-2 py-1.5 tabular-nums">{r.line}</td>
                    <td className="px-2 py-1.5">
                      {r.action === "create" ? <span className="text-green-700">new</span> : r.action === "update" ? <span className="text-blue-700">update</span> : <span className="font-medium text-red-700">error</span>}
                    </td>
                    {columns.map((c) => {
                      const isBad = bad.has(c);
                      const value = c === "endpoints" && !r.issues.length ? r.endpoints : (r.cells[c] ?? "");
                      return (
                        <td key={c} className={`max-w-48 truncate px-2 py-1.5 ${isBad ? "bg-red-100 font-medium text-red-900 ring-1 ring-inset ring-red-400" : "text-slate-700"}`} title={isBad ? r.issues.filter((i) => i.column === c).map((i) => i.reason).join("; ") : value}>
                          {value || <span className="text-slate-300">—</span>}
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// Problems block the import; warnings (a credential the import detaches) say what an admin must do after it.
const ISSUE_STYLES = {
  problem: { caption: "Problems", word: "problem", border: "border-red-200", head: "bg-red-50 text-red-800", text: "text-red-800", rows: "divide-red-100", testid: "import-issue" },
  warning: {
    caption: "Credentials this import detaches (the import still goes ahead)",
    word: "warning",
    border: "border-amber-300",
    head: "bg-amber-50 text-amber-900",
    text: "text-amber-900",
    rows: "divide-amber-100",
    testid: "import-warning",
  },
} as const;

function IssueTable({ issues, total, kind }: { issues: ImportIssue[]; total: number; kind: keyof typeof ISSUE_STYLES }) {
  const style = ISSUE_STYLES[kind];
  return (
    <div className={`overflow-x-auto rounded-lg border ${style.border} bg-white shadow-sm`}>
      <table className="w-full text-left text-sm" aria-label={style.caption}>
        <caption className={`px-3 py-2 text-left font-semibold ${style.text}`}>{style.caption}</caption>
        <thead className={`${style.head} text-xs uppercase`}>
          <tr>
            <th scope="col" className="px-3 py-1.5">Line</th>
            <th scope="col" className="px-3 py-1.5">Column</th>
            <th scope="col" className="px-3 py-1.5">{kind === "problem" ? "Problem" : "What happens and what to do"}</th>
          </tr>
        </thead>
        <tbody className={`divide-y ${style.rows}`}>
          {issues.map((i, idx) => (
            <tr key={idx} data-testid={style.testid}>
              <td className="px-3 py-1.5 tabular-nums">{i.line}</td>
              <td className="px-3 py-1.5 font-mono text-xs">{i.column ?? "—"}</td>
              <td className="px-3 py-1.5">{i.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {issues.length < total && <p className="px-3 py-2 text-xs text-slate-600">Showing the first {n(issues.length)} of {n(total)} {style.word}s.</p>}
    </div>
  );
}
