import type { InputHTMLAttributes, SelectHTMLAttributes } from "react";

export function TextField({ label, id, error, ...props }: InputHTMLAttributes<HTMLInputElement> & { label: string; id: string; error?: string }) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium text-slate-700">{label}</label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        {...props}
        className="rounded-md border border-slate-300 px-3 py-1.5 text-sm shadow-sm focus:border-brand-600"
      />
      {error && <p id={`${id}-error`} className="text-xs text-red-700">{error}</p>}
    </div>
  );
}

export function SelectField({ label, id, children, ...props }: SelectHTMLAttributes<HTMLSelectElement> & { label: string; id: string }) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium text-slate-700">{label}</label>
      <select id={id} {...props} className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm shadow-sm">
        {children}
      </select>
    </div>
  );
}
