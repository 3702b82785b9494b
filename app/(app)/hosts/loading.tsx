import { SkeletonTable } from "@/app/_components/ui/skeleton";

// Shown while the host list query runs (Next streams it in place of page.tsx).
//
// Without JavaScript a streamed page never replaces its fallback: React leaves the finished page
// in a hidden <div id="S:n"> at the end of <body> and relies on a script to swap it in. The
// <noscript> style below hides the skeleton and shows that div over the main column (sidebar is
// w-56, main has p-6), so the GET filter form and sort links work with JavaScript off.
// (No ">" or quotes in it: React escapes them in text, and inside <noscript> they stay escaped.
// In Tailwind's `base` layer, because its own `[hidden]{display:none!important}` lives there and a
// layered !important beats any unlayered one; within the layer the more specific selector wins.)
const NO_SCRIPT_CSS = String.raw`@layer base{[data-hosts-loading]{display:none!important}div[hidden][id^=S\:]{display:block!important;position:absolute;top:0;left:14rem;right:0;padding:1.5rem}}`;

export default function HostsLoading() {
  return (
    <div className="flex flex-col gap-4" aria-busy="true" aria-live="polite" data-hosts-loading>
      <noscript>
        <style>{NO_SCRIPT_CSS}</style>
      </noscript>
      <h1 className="text-2xl font-semibold">Hosts</h1>
      <p className="sr-only">Loading hosts…</p>
      <div className="flex gap-2">
        {Array.from({ length: 6 }, (_, i) => (
          <div key={i} className="h-7 w-28 animate-pulse rounded-full bg-slate-200" />
        ))}
      </div>
      <div className="h-16 animate-pulse rounded-lg bg-slate-200" />
      <SkeletonTable rows={10} columns={["w-48", "w-24"]} />
    </div>
  );
}
