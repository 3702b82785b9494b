import { Fragment } from "react";
import Link from "next/link";

/**
 * "Hosts / web-1 / Edit": links to the pages above this one, then (optionally) this page's own
 * name as plain text. The slashes are drawn for the eye only; a screen reader hears the links.
 */
export function Breadcrumb({ trail, current }: { trail: { href: string; label: string }[]; current?: string }) {
  return (
    <nav aria-label="Breadcrumb" className="text-sm text-slate-600">
      {trail.map((step) => (
        <Fragment key={step.href}>
          <Link href={step.href} className="hover:underline">
            {step.label}
          </Link>{" "}
          <span aria-hidden="true">/</span>{" "}
        </Fragment>
      ))}
      {current}
    </nav>
  );
}
