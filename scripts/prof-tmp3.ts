import { evidenceStream, evidenceCut } from "../lib/evidence/export";
import { prisma } from "../lib/db";
async function main() {
  for (let k = 0; k < 1; k++) {
    const c0 = process.cpuUsage(); const t0 = performance.now();
    const reader = evidenceStream({ sort: "name", dir: "asc" }, "csv", evidenceCut(undefined)).getReader();
    let bytes = 0;
    for (;;) { const { done, value } = await reader.read(); if (done) break; bytes += value.byteLength; }
    const c = process.cpuUsage(c0);
    console.log(`in-process export: ${(bytes / 2 ** 20).toFixed(1)} MiB, wall ${(performance.now() - t0).toFixed(0)} ms, node cpu ${((c.user + c.system) / 1000).toFixed(0)} ms, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
  }
  await prisma.$disconnect();
}
main();
