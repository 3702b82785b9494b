// Fuzzes every parser of remote output (reg.exe, postconf, `nginx -T`, doveconf, WinRM XML, the
// include glob) with many more inputs than the unit suite, plus the multi-megabyte pathological
// ones. Usage:
//   node --import tsx scripts/fuzz.ts [--iterations 20000] [--seed 20261207] [--bound-ms 10000] [--json]
// Exit code 1 when any input crashed a parser or took longer than the bound.
import { fuzzTarget, TARGETS, type FuzzReport } from "../tests/unit/fuzz/harness";

function option(name: string, fallback: number): number {
  const k = process.argv.indexOf(`--${name}`);
  if (k < 0) return fallback;
  const v = Number(process.argv[k + 1]);
  if (!Number.isInteger(v) || v < 0) {
    console.error(`--${name} takes a whole number, got ${process.argv[k + 1] ?? "nothing"}`);
    process.exit(2);
  }
  return v;
}

const iterations = option("iterations", 20_000);
const seed = option("seed", 20261207);
const boundMs = option("bound-ms", 10_000);
const reports: FuzzReport[] = [];
const started = performance.now();
for (const t of TARGETS) {
  const r = fuzzTarget(t, { iterations, seed, boundMs, pathological: "all" });
  reports.push(r);
  console.log(
    `${r.target.padEnd(22)} inputs ${String(r.inputs).padStart(6)}  own errors ${String(r.expectedErrors).padStart(6)}  crashes ${r.crashes.length}  over ${boundMs} ms ${r.slow.length}  ` +
      `slowest ${r.slowest.ms.toFixed(1)} ms (${r.slowest.label}, ${r.slowest.chars} chars)  total ${(r.totalMs / 1000).toFixed(1)} s`,
  );
  for (const c of r.crashes.slice(0, 10)) console.log(`  CRASH ${c.label}: ${c.error}\n    input starts ${c.inputHead}`);
  for (const s of r.slow.slice(0, 10)) console.log(`  SLOW ${s.label}: ${s.ms.toFixed(1)} ms`);
}
console.log(`seed ${seed}, ${iterations} iterations per parser, ${((performance.now() - started) / 1000).toFixed(1)} s in all`);
if (process.argv.includes("--json")) console.log(JSON.stringify(reports.map(({ crashes, slow, ...r }) => ({ ...r, crashes: crashes.length, slow: slow.length }))));
process.exit(reports.some((r) => r.crashes.length > 0 || r.slow.length > 0) ? 1 : 0);
