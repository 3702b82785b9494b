// Apply and rollback: one postconf -e (and one postconf -P -e) for all the parameters, postfix
// reload and the read-back in one remote shell; anything failing puts the previous values back.

import { z } from "zod";
import type { RemoteSession } from "../../transport/types";
import { failApply, runStep, stepError } from "../apply-steps";
import { bytesOf, FileSnapshotSchema, messageOf, readRemoteFile, runBatch, writeRemoteFile } from "../linux-common";
import { PlaybookError, type Applied, type ApplyOptions, type Change, type ConfigState, type RawOutput } from "../types";
import { CHECK_STEPS, checkPostfix, stateFromCheck } from "./check";
import { splitMasterName } from "./postconf";
import { isProtocolParameter, POSTFIX_PROTOCOL_PARAMETERS, type PostfixProtocolParameter } from "./protocols";
import type { PostfixState } from "./state";

// A protocol list as Postfix accepts it, or a $reference (only ever written back by rollback).
// No line breaks: postconf -e would write them into main.cf verbatim.
const PROTOCOL_VALUE = /^[A-Za-z0-9.!<>=:,\t $_{}()-]*$/;

const ChangeSchema = z.object({
  path: z.string().regex(/^\/[^\0\n\r]*\/(main|master)\.cf$/),
  value: z.string(),
  from: z.union([z.string(), z.null()]),
  to: z.union([z.string().regex(PROTOCOL_VALUE).max(500), z.null()]),
  reason: z.string(),
});

interface Target {
  change: Change;
  master: { service: string; type: string } | null;
  parameter: PostfixProtocolParameter;
  to: string | null;
}

function validate(hostLabel: string, state: PostfixState, changes: Change[]): Target[] {
  return changes.map((c) => {
    const parsed = ChangeSchema.safeParse(c);
    const refuse = (why: string) => new PlaybookError(hostLabel, `Refusing a Postfix change on ${hostLabel} (${String(c.path)} ${String(c.value)}): ${why}.`, { before: state });
    if (!parsed.success) throw refuse("not a protocol parameter change this playbook makes");
    const isMaster = parsed.data.path.endsWith("/master.cf");
    if (parsed.data.path !== `${state.configDirectory}/${isMaster ? "master" : "main"}.cf`) throw refuse(`this Postfix's configuration is in ${state.configDirectory}`);
    if (isMaster) {
      const parts = splitMasterName(parsed.data.value);
      if (!parts || !isProtocolParameter(parts.parameter) || !/^[A-Za-z0-9_.:[\]-]+$/.test(parts.service)) throw refuse("not a master.cf protocol override");
      return { change: c, master: { service: parts.service, type: parts.type }, parameter: parts.parameter, to: parsed.data.to };
    }
    if (!isProtocolParameter(parsed.data.value)) throw refuse("only the four *_tls_*protocols parameters are managed");
    return { change: c, master: null, parameter: parsed.data.value, to: parsed.data.to };
  });
}

function currentOf(state: PostfixState, t: Pick<Target, "master" | "parameter">): string | null {
  if (!t.master) return state.parameters[t.parameter].explicit;
  const o = state.masterOverrides.find((x) => x.service === t.master!.service && x.type === t.master!.type && x.parameter === t.parameter);
  return o ? o.value : null;
}

function writeArgv(t: Pick<Target, "master" | "parameter">, to: string | null): string[] {
  if (!t.master) return to === null ? ["postconf", "-X", t.parameter] : ["postconf", "-e", `${t.parameter}=${to}`];
  const name = `${t.master.service}/${t.master.type}/${t.parameter}`;
  return to === null ? ["postconf", "-P", "-X", name] : ["postconf", "-P", "-e", `${name}=${to}`];
}

/**
 * The writes as few postconf runs as possible: one per kind (main.cf -e, main.cf -X, master.cf
 * -P -e, master.cf -P -X), each naming all its parameters (postconf(1) takes any number of
 * name=value / name arguments). Every postconf -e parses and rewrites main.cf whole: measured
 * on Postfix 3.7, four single writes plus the read-back took 0.05 s of CPU, one grouped write
 * 0.01 s, which counts when 50 hosts share two cores. Wall time is the same either way (about
 * 1.7 s): the first Postfix program run within a second of a main.cf write waits until the
 * file is a second old, once per shell.
 */
function groupedWrites<T extends Pick<Target, "master" | "parameter">>(items: Array<{ target: T; to: string | null }>): Array<{ argv: string[]; targets: T[] }> {
  const groups = new Map<string, { argv: string[]; targets: T[] }>();
  for (const { target, to } of items) {
    const argv = writeArgv(target, to);
    const flags = argv.slice(0, -1);
    const key = flags.join(" ");
    const group = groups.get(key) ?? { argv: flags, targets: [] };
    group.argv.push(argv[argv.length - 1]!);
    group.targets.push(target);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** The first step that failed, as an Error saying what it was for, or null. */
function firstFailure(ran: RawOutput[], what: (index: number) => string): { index: number; error: Error } | null {
  const index = ran.findIndex((r) => r.exitCode !== 0);
  if (index < 0) return null;
  const r = ran[index]!;
  return { index, error: stepError(what(index), r) };
}

const describeWrite = (argv: string[], targets: Target[]) => `${argv.slice(0, -targets.length).join(" ")} ${targets.map((t) => t.parameter).join(" ")}`;

/** Puts back the values found before, newest first, then check + reload, in one remote shell.
 *  Returns what went wrong, or null when the host is back where it was. */
async function restore(s: RemoteSession, written: Array<{ target: Target; from: string | null }>): Promise<string | null> {
  const back = groupedWrites([...written].reverse().map((w) => ({ target: w.target, to: w.from })));
  const steps = [...back.map((g) => g.argv), ["postfix", "reload"]];
  try {
    const failed = firstFailure(await runBatch(s, steps, { stopOnFailure: true }), (i) => (i < back.length ? `restoring ${back[i]!.targets.map((t) => t.parameter).join(", ")}` : "postfix reload"));
    return failed ? failed.error.message : null;
  } catch (e) {
    return messageOf(e);
  }
}

/**
 * Writes the changes that are not in place yet (one postconf -e / postconf -P -e each), then `postfix
 * reload`, then reads back: all in one remote shell that stops at the first failing step.
 * No `postfix check`: it checks ownership and permissions of Postfix's files, not the values of
 * the four protocol parameters (smtpd parses those only when a TLS session starts, and the wire
 * verification after apply is what proves them), and right after a write it cost ~0.6 s of CPU
 * per host (Postfix re-reads a main.cf younger than a second until it is older; measured on the
 * 50-host bench, where it was the largest part of the hosts' work). Any failure restores the previous values and reloads, and is reported with the
 * before-state. A shell cut off midway (a lost connection) may have written any of the values, so
 * all of them count as written. Re-applying the same plan writes nothing.
 */
export async function applyPostfix(s: RemoteSession, changes: Change[], opts: ApplyOptions<PostfixState> = {}): Promise<Applied> {
  const before = opts.before ?? (await checkPostfix(s));
  await opts.onBefore?.(before);
  const targets = validate(s.hostLabel, before, changes);
  const pending = targets.filter((t) => currentOf(before, t) !== t.to);
  if (pending.length === 0) return { before, after: before, changes: [], pendingReboot: false };

  const written: Array<{ target: Target; from: string | null }> = [];
  const writtenChanges = () => written.map((w) => ({ ...w.target.change, from: w.from, to: w.target.to }));
  const fail = (step: string, cause: unknown): Promise<never> =>
    failApply(s, before, step, cause, {
      wrote: written.length > 0,
      restore: () => restore(s, written),
      restored: "The previous values were restored and Postfix reloaded.",
      notRestored: (problem) => `Restoring the previous values failed too (${problem}); roll back from the before-snapshot.`,
      written: writtenChanges,
    });

  const groups = groupedWrites(pending.map((t) => ({ target: t, to: t.to })));
  const writes = groups.map((g) => g.argv);
  const reloadAt = writes.length;
  const readBackAt = reloadAt + 1;
  let ran: RawOutput[];
  try {
    // A longer budget than a read: a write cut off by the timeout leaves the host half-changed
    // until the restore (measured: 50 hosts at once on 2 cores passed 60 s).
    ran = await runBatch(s, [...writes, ["postfix", "reload"], ...CHECK_STEPS], { stopOnFailure: readBackAt, timeoutMs: 180_000 });
  } catch (e) {
    for (const t of pending) written.push({ target: t, from: currentOf(before, t) });
    return fail(`Changing ${pending.map((t) => t.change.value).join(", ")}`, e);
  }
  // Every write that ran, including a failed one (it may have written before failing).
  for (const g of groups.slice(0, Math.min(ran.length, writes.length))) for (const t of g.targets) written.push({ target: t, from: currentOf(before, t) });
  const failed = firstFailure(ran.slice(0, readBackAt), (i) => (i < reloadAt ? describeWrite(groups[i]!.argv, groups[i]!.targets) : "postfix reload"));
  if (failed) {
    const step = failed.index < reloadAt ? `Changing ${groups[failed.index]!.targets.map((t) => t.change.value).join(", ")}` : "Reloading Postfix";
    return fail(step, failed.error);
  }
  let after: PostfixState;
  try {
    after = await stateFromCheck(s, ran.slice(readBackAt));
  } catch (e) {
    return fail("Reading the configuration back", e);
  }
  const wrong = pending.filter((t) => currentOf(after, t) !== t.to);
  if (wrong.length > 0) return fail("Verifying the change", new Error(`still shows ${wrong.map((t) => `${t.change.value} = ${currentOf(after, t) ?? "(unset)"}`).join(", ")}`));
  return { before, after, changes: writtenChanges(), pendingReboot: false };
}

const NullableString = z.union([z.string(), z.null()]);
const BeforeSchema = z.object({
  playbookId: z.literal("postfix"),
  configDirectory: z.string(),
  masterCf: FileSnapshotSchema.nullable().optional(),
  parameters: z.object(Object.fromEntries(POSTFIX_PROTOCOL_PARAMETERS.map((p) => [p, z.object({ explicit: NullableString })])) as Record<PostfixProtocolParameter, z.ZodObject<{ explicit: typeof NullableString }>>),
  masterOverrides: z.array(z.object({ service: z.string(), type: z.string(), parameter: z.enum(POSTFIX_PROTOCOL_PARAMETERS), value: z.string() })),
});

/** Restores the four parameters in main.cf (unset ones are removed, so the default applies
 *  again) and every master.cf override recorded in `before`. Overrides added since are left. */
export async function rollbackPostfix(s: RemoteSession, before: ConfigState): Promise<Applied> {
  const parsed = BeforeSchema.safeParse(before);
  if (!parsed.success) throw new PlaybookError(s.hostLabel, `The snapshot to restore on ${s.hostLabel} is not a Postfix snapshot.`);
  const b = parsed.data;
  const changes: Change[] = [
    ...POSTFIX_PROTOCOL_PARAMETERS.map((p) => ({ path: `${b.configDirectory}/main.cf`, value: p, from: null, to: b.parameters[p].explicit, reason: "rollback" })),
    ...b.masterOverrides.map((o) => ({ path: `${b.configDirectory}/master.cf`, value: `${o.service}/${o.type}/${o.parameter}`, from: null, to: o.value, reason: "rollback" })),
  ];
  const applied = await applyPostfix(s, changes);
  // postconf -P -e re-indents the entries it edits (measured on Postfix 3.7: "  -o" becomes
  // "    -o", and the type column is re-padded). With the values back, a master.cf that differs
  // from the snapshot only in whitespace gets its exact old bytes; one changed in other ways
  // since is left as postconf wrote it.
  if (b.masterCf) {
    const want = bytesOf(b.masterCf);
    const now = await readRemoteFile(s, b.masterCf.path);
    const squash = (x: Buffer) => x.toString("latin1").replace(/\s+/g, " ").trim();
    if (!now.equals(want) && squash(now) === squash(want)) {
      await writeRemoteFile(s, b.masterCf.path, want);
      try {
        await runStep(s, ["postfix", "check"]);
      } catch (e) {
        await writeRemoteFile(s, b.masterCf.path, now);
        throw new PlaybookError(s.hostLabel, `Restoring ${b.masterCf.path} byte for byte on ${s.hostLabel}: ${messageOf(e)}; the file was left as postconf wrote it.`, { cause: e });
      }
    }
  }
  return applied;
}
