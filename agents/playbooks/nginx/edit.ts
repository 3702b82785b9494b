// Editing one file (pure; text is the file's bytes as latin1, so offsets are byte offsets).

import { messageOf } from "../linux-common";
import { findAll, type NginxDirective, parseNginxConfig } from "./parse";
import type { NginxChange } from "./state";

const MARKER = "# tlsfleet: TLS protocol versions set by tlsfleet";

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

function indentOf(text: string, offset: number): string {
  return /^[ \t]*/.exec(text.slice(lineStart(text, offset)))![0];
}

export type EditOutcome = { text: string; applied: NginxChange[]; skipped: NginxChange[] };

/** Applies the changes for one file. A change whose directive is not where the plan saw it, or
 *  holds another value than the plan's "from", is refused (the file changed since the plan);
 *  one that already holds "to" is skipped (re-applying is a no-op). */
export function editNginxFile(text: string, changes: NginxChange[]): EditOutcome | string {
  let tree: NginxDirective[];
  try {
    tree = parseNginxConfig(text);
  } catch (e) {
    return `cannot parse the file: ${messageOf(e)}`;
  }
  const edits: Array<{ start: number; end: number; insert: string }> = [];
  const applied: NginxChange[] = [];
  const skipped: NginxChange[] = [];
  for (const c of changes) {
    if (c.action === "replace") {
      const d = findAll(tree, (x) => x.name === "ssl_protocols" && x.block === null && x.line === c.line)[0];
      if (!d) return `no ssl_protocols directive on line ${c.line} any more`;
      const now = d.args.join(" ");
      if (now === c.to) {
        skipped.push(c);
        continue;
      }
      if (now !== c.from) return `ssl_protocols on line ${c.line} is "${now}", the plan expected "${c.from ?? ""}"`;
      edits.push({ start: d.start, end: d.end, insert: `ssl_protocols ${c.to};` });
      applied.push(c);
    } else {
      const b = findAll(tree, (x) => x.name === c.context && x.block !== null && x.line === c.line)[0];
      if (!b || b.blockOpen === null) return `no ${c.context} block on line ${c.line} any more`;
      const existing = b.block!.find((x) => x.name === "ssl_protocols" && x.block === null);
      if (existing) {
        if (existing.args.join(" ") === c.to) {
          skipped.push(c);
          continue;
        }
        return `the ${c.context} block on line ${c.line} already sets ssl_protocols ${existing.args.join(" ")}`;
      }
      const indent = `${indentOf(text, b.start)}    `;
      edits.push({ start: b.blockOpen, end: b.blockOpen, insert: `\n${indent}${MARKER}\n${indent}ssl_protocols ${c.to};` });
      applied.push(c);
    }
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.insert + out.slice(e.end);
  return { text: out, applied, skipped };
}

/** The file without its ssl_protocols directives and tlsfleet marker lines: two versions of a
 *  file that compare equal this way differ only in what this playbook manages. */
export function withoutManaged(text: string): string | null {
  let tree: NginxDirective[];
  try {
    tree = parseNginxConfig(text);
  } catch {
    return null;
  }
  let out = text;
  for (const d of findAll(tree, (x) => x.name === "ssl_protocols" && x.block === null).sort((a, b) => b.start - a.start)) out = out.slice(0, d.start) + out.slice(d.end);
  return out
    .split("\n")
    .filter((l) => l.trim() !== MARKER)
    .map((l) => l.trimEnd())
    .filter((l) => l !== "")
    .join("\n");
}
