// Child of support.ts writeBenchmarkSection, run under flock so that reading BENCHMARKS.md and
// writing it back happen under the lock: write-section.ts FILE HEADING MERGE, the section as
// JSON { section, firstTime } on stdin.
import fs from "node:fs";
import { mergeSection, type SectionMerge } from "./support";

const [file, heading, merge] = process.argv.slice(2) as [string, string, SectionMerge];
const { section, firstTime } = JSON.parse(fs.readFileSync(0, "utf8")) as { section: string; firstTime: string };
const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmarks\n";
fs.writeFileSync(file, mergeSection(text, heading, section, merge, firstTime));
