"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { deleteSavedFilterAction, saveFilterAction } from "../actions";

interface SavedFilter {
  id: string;
  name: string;
  query: string;
}

/** The user's saved filters as links, and "save the current filter as ...". */
export function SavedFilters({ saved, currentQuery }: { saved: SavedFilter[]; currentQuery: string }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [name, setName] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  function save(e: React.FormEvent) {
    e.preventDefault();
    startTransition(async () => {
      const res = await saveFilterAction({ name, query: currentQuery });
      setMessage(res.ok ? { ok: true, text: `Saved "${name}"` } : { ok: false, text: res.error });
      if (res.ok) {
        setName("");
        router.refresh();
      }
    });
  }

  function remove(f: SavedFilter) {
    startTransition(async () => {
      const res = await deleteSavedFilterAction({ id: f.id });
      setMessage(res.ok ? { ok: true, text: `Deleted "${f.name}"` } : { ok: false, text: res.error });
      if (res.ok) router.refresh();
    });
  }

  return (
    <section aria-label="Saved filters" className="flex flex-wrap items-center gap-2 text-sm">
      <span className="font-medium text-slate-700">Saved filters:</span>
      {saved.length === 0 && <span className="text-slate-500">none yet</span>}
      <ul className="flex flex-wrap gap-2">
        {saved.map((f) => (
          <li key={f.id} className="inline-flex items-center rounded-md border border-slate-300 bg-white">
            <Link href={f.query ? `/hosts?${f.query}` : "/hosts"} className="px-2 py-0.5 text-brand-600 hover:underline">
              {f.name}
            </Link>
            <button type="button" onClick={() => remove(f)} disabled={pending} aria-label={`Delete saved filter ${f.name}`} className="border-l border-slate-300 px-1.5 py-0.5 text-slate-500 hover:bg-red-50 hover:text-red-700">
              ×
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={save} className="ml-auto flex items-center gap-2">
        <label htmlFor="saved-filter-name" className="sr-only">
          Name for the current filter
        </label>
        <input
          id="saved-filter-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="Name this filter"
          maxLength={60}
          required
          className="w-44 rounded-md border border-slate-300 px-2 py-1 text-sm"
        />
        <button type="submit" disabled={pending || !name.trim()} className="rounded-md border border-slate-300 bg-white px-2.5 py-1 text-sm font-medium text-slate-800 hover:bg-slate-100 disabled:text-slate-400">
          Save filter
        </button>
      </form>
      {message && (
        <p role="status" className={`w-full text-xs ${message.ok ? "text-green-700" : "text-red-700"}`}>
          {message.text}
        </p>
      )}
    </section>
  );
}
