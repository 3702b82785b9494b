// How the host list writes a count that may be an estimate (lib/inventory/hosts.ts countsForList):
// rounded to two significant digits and said to be one, so "about 370,000" never reads as a
// number someone could check host by host.

/** n rounded to two significant digits (374,123 -> 370,000; 3,712 -> 3,700; 42 -> 42). */
export function roundEstimate(n: number): number {
  if (n < 100) return Math.round(n);
  const unit = 10 ** (Math.floor(Math.log10(n)) - 1);
  return Math.round(n / unit) * unit;
}

/** "12,345", or "about 12,000" for an estimate. */
export function countLabel(n: number, approximate: boolean): string {
  return approximate ? `about ${roundEstimate(n).toLocaleString("en")}` : n.toLocaleString("en");
}
