// What every playbook's apply does the same way: a remote step that has to succeed, a failed
// apply reported with whether the host was put back, and, for the services configured by files
// (nginx, Dovecot), the whole change: copy kept on the host, new bytes, validate, reload, read
// back, verify, and the original bytes back if any of it fails.

import type { RemoteSession } from "../transport/types";
import { backupRemoteFile, messageOf, writeRemoteFile } from "./linux-common";
import { PlaybookError, type Change, type ConfigState } from "./types";

/** A step that failed, in the operator's terms: "nginx -t failed (exit code 1): <what it printed>". */
export function stepError(what: string, r: { exitCode: number | null; stdout: string; stderr: string }): Error {
  return new Error(`${what} failed (exit code ${r.exitCode ?? "none"}): ${(r.stderr.trim() || r.stdout.trim()).slice(0, 500) || "no message"}`);
}

/** Runs one command that has to succeed (a write, a validation, a reload); any other exit code
 *  than 0 throws stepError, named `what` (default: the command). Returns its stdout. */
export async function runStep(s: RemoteSession, argv: readonly string[], opts: { what?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await s.exec(argv, { timeoutMs: opts.timeoutMs ?? 60_000 });
  if (r.exitCode !== 0) throw stepError(opts.what ?? argv.join(" "), r);
  return r.stdout;
}

/** How a failed apply puts the host back, and what the error then says. */
export interface Undo {
  /** Whether anything was written yet; if not, nothing is restored. */
  wrote: boolean;
  /** Puts the host back; what went wrong, or null when it is back. */
  restore(): Promise<string | null>;
  /** The outcome once the host is back: "The previous values were restored and Postfix reloaded." */
  restored: string;
  /** The outcome when putting it back failed too. */
  notRestored(problem: string): string;
  /** What was written; the error carries it only when the host is not back (rollback needs it). */
  written(): Change[];
}

/** Puts the host back and throws the PlaybookError for `step`: what failed, why, and the outcome,
 *  with the before-state so rollback stays possible. */
export async function failApply(s: RemoteSession, before: ConfigState, step: string, cause: unknown, undo: Undo): Promise<never> {
  const problem = undo.wrote ? await undo.restore() : null;
  const outcome = !undo.wrote ? "Nothing had been changed." : problem === null ? undo.restored : undo.notRestored(problem);
  throw new PlaybookError(s.hostLabel, `${step} on ${s.hostLabel} failed: ${messageOf(cause)}. ${outcome}`, {
    before,
    written: problem === null ? [] : undo.written(),
    cause,
  });
}

/** A service configured by files: how it checks them, reloads them, and reads its state. */
export interface FileService<S extends ConfigState> {
  /** As the operator knows it: "nginx", "Dovecot". */
  name: string;
  /** The command that checks the files as written, and the step's name in an error. */
  validate: { argv: readonly string[]; step: string };
  reload: { argv: readonly string[]; step: string };
  check(s: RemoteSession): Promise<S>;
}

export interface FileEdit {
  path: string;
  original: Buffer;
  next: Buffer;
  /** Where the on-host copy goes. */
  backupPath: string;
  /** What this file's new bytes change. */
  changes: Change[];
}

/** Writes the given bytes back, validates, and reloads if the changed files had been reloaded.
 *  Returns what went wrong, or null when the service runs the given files again. */
export async function restoreFiles<S extends ConfigState>(s: RemoteSession, service: FileService<S>, files: ReadonlyArray<{ path: string; bytes: Buffer }>, reload: boolean): Promise<string | null> {
  try {
    for (const f of files) await writeRemoteFile(s, f.path, f.bytes);
    await runStep(s, service.validate.argv);
    if (reload) await runStep(s, service.reload.argv);
    return null;
  } catch (e) {
    return messageOf(e);
  }
}

/**
 * Each file: a copy at its backupPath, then its new bytes; then validate, reload, read back and
 * `verify` (a problem, or null). Any step failing puts the original bytes back (and reloads again
 * if the reload had happened) and throws failApply's error. Returns the state read back.
 */
export async function editAndReload<S extends ConfigState>(s: RemoteSession, before: ConfigState, edits: readonly FileEdit[], service: FileService<S>, verify: (after: S) => string | null): Promise<S> {
  const written: FileEdit[] = [];
  let reloaded = false;
  const fail = (step: string, cause: unknown): Promise<never> => {
    const one = written.length === 1;
    return failApply(s, before, step, cause, {
      wrote: written.length > 0,
      restore: () => restoreFiles(s, service, written.map((w) => ({ path: w.path, bytes: w.original })), reloaded),
      restored: `The original file${one ? " was" : "s were"} put back${reloaded ? ` and ${service.name} reloaded` : ""}.`,
      notRestored: (problem) => `Putting the original file${one ? "" : "s"} back failed too (${problem}); roll back from the before-snapshot (cop${one ? "y" : "ies"}: ${written.map((w) => w.backupPath).join(", ")}).`,
      written: () => written.flatMap((w) => w.changes),
    });
  };

  for (const e of edits) {
    try {
      await backupRemoteFile(s, e.path, e.backupPath);
      written.push(e);
      await writeRemoteFile(s, e.path, e.next);
    } catch (err) {
      return fail(`Writing ${e.path}`, err);
    }
  }
  try {
    await runStep(s, service.validate.argv);
  } catch (err) {
    return fail(service.validate.step, err);
  }
  try {
    reloaded = true;
    await runStep(s, service.reload.argv);
  } catch (err) {
    return fail(service.reload.step, err);
  }
  let after: S;
  try {
    after = await service.check(s);
  } catch (err) {
    return fail("Reading the configuration back", err);
  }
  const problem = verify(after);
  if (problem !== null) return fail("Verifying the change", new Error(problem));
  return after;
}
